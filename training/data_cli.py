"""`latexsnip data build|pack`: dispatch to the data tools."""

from __future__ import annotations

import sys

USAGE = """usage: latexsnip data {prepare,build,pack} [ARGS...]

  prepare list the offline training/val/test formulas (harvested corpus + im2latex val/test)
  build   render formulas with TeX Live into a `datasets` DatasetDict (+ optional pack)
  pack    write the compact parquet pack of a built dataset (to carry to a GPU machine)

`latexsnip data SUBCOMMAND --help` describes inputs and outputs."""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    sub, rest = argv[0], argv[1:]
    if sub == "prepare":
        from training.prepare_corpus import main as prepare_main

        return int(prepare_main(rest) or 0)
    if sub == "build":
        from training.data_build import main as build_main

        return int(build_main(rest) or 0)
    if sub == "pack":
        from training.pack import main as pack_main

        return int(pack_main(rest) or 0)
    print(f"latexsnip data: unknown subcommand {sub!r}\n\n{USAGE}", file=sys.stderr)
    return 2
