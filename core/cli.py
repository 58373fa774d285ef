"""The one console script. `latexsnip` alone starts the tray app; subcommands do the rest.

Each subcommand lives in its own module with a `main(argv) -> int`; they are imported only
when chosen, so `latexsnip predict` never loads Qt and the app never loads training code.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "app": ("desktop_app.main:run_app", "start the tray app (the default)"),
    "snip": ("desktop_app.main:snip_main", "ask the running app to start a snip (--clipboard: read the image on the clipboard)"),
    "predict": ("core.predict_cli:main", "recognise image files, print LaTeX"),
    "data": ("training.data_cli:main", "build / pack training data (data build, data pack)"),
    "train": ("training.train:main", "train a model"),
    "eval": ("training.evaluate:main", "evaluate weights on a dataset split"),
    "export": ("training.export:main", "write the one-file checkpoint from a run directory"),
    "plot": ("training.plot:main", "plot a training log"),
}


def _usage() -> str:
    lines = ["usage: latexsnip [COMMAND] [ARGS...]", "", "Without a command, starts the tray app.", "", "commands:"]
    lines += [f"  {name:<9} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`latexsnip COMMAND --help` describes each command's inputs and outputs."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    name = argv.pop(0) if argv and not argv[0].startswith("-") else "app"
    if name not in COMMANDS:
        print(f"latexsnip: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    target, _ = COMMANDS[name]
    module, func = target.split(":")
    try:
        entry = getattr(importlib.import_module(module), func)
    except ImportError as e:
        extra = "app" if module.startswith("desktop_app") else "train"
        print(f"latexsnip {name}: missing dependency ({e}); install with: pip install 'latexsnip[{extra}]'", file=sys.stderr)
        return 2
    return int(entry(argv) or 0)


if __name__ == "__main__":
    sys.exit(main())
