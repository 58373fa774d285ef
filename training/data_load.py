"""Load an im2latex-style split as a ``datasets.Dataset`` with columns formula, filename, image.

``load_im2latex(source, split)`` accepts:
  * the hub id ``yuntian-deng/im2latex-100k`` (or any ``owner/name`` that is not a local path):
    ``datasets.load_dataset``; offline it fails within seconds with a message that says to run
    ``latexsnip data build`` or to pass a local directory;
  * a directory written by ``save_to_disk`` (a DatasetDict, or a single Dataset);
  * a directory of parquet files named ``{split}*.parquet`` (also ``data/{split}-*.parquet``,
    the hub's layout);
  * a pack directory written by ``training.pack`` (the images are the ink-tight crops padded
    back to the processed image and pasted at the top-left of a 320x64 white canvas).

Split aliases: ``val`` / ``validation`` / ``validate`` are interchangeable.
"""

from __future__ import annotations

import glob
import io
import os
import socket
from collections.abc import Callable
from typing import Any

from core.errors import LatexSnipError

HUB_ID = "yuntian-deng/im2latex-100k"
CANVAS = (320, 64)
HUB_TIMEOUT_S = 10.0
_ALIASES = {
    "val": ("val", "validation", "validate"),
    "validation": ("validation", "val", "validate"),
    "validate": ("validate", "val", "validation"),
}


class DataLoadError(LatexSnipError):
    """A dataset source or split cannot be found or read."""


def _split_names(split: str) -> tuple[str, ...]:
    return _ALIASES.get(split, (split,))


def _is_hub_id(source: str) -> bool:
    return (
        not os.path.exists(source)
        and source.count("/") == 1
        and not source.startswith((".", "/", "~"))
        and all(part and " " not in part for part in source.split("/"))
    )


def _offline_env() -> bool:
    return any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
        for v in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _hub_reachable(timeout: float = 3.0) -> bool:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = endpoint.split("://", 1)[-1].split("/", 1)[0]
    name, _, port = host.partition(":")
    try:
        with socket.create_connection(
            (name, int(port or (443 if endpoint.startswith("https") else 80))), timeout=timeout
        ):
            return True
    except OSError:
        return False


def _offline_message(source: str, why: str) -> str:
    return (
        f"cannot load {source!r} from the Hugging Face hub ({why}). Build the data locally with "
        "`latexsnip data build --formulas FILE --out DIR` and pass DIR (or a pack / parquet "
        "directory) instead of the hub id."
    )


def _cached_copies(source: str) -> list[str]:
    """Local cache directories that may hold ``source`` (datasets cache, hub cache)."""
    home = os.path.expanduser(os.environ.get("HF_HOME", os.path.join("~", ".cache", "huggingface")))
    ds_cache = os.path.expanduser(
        os.environ.get("HF_DATASETS_CACHE", os.path.join(home, "datasets"))
    )
    hub_cache = os.path.expanduser(
        os.environ.get(
            "HF_HUB_CACHE", os.environ.get("HUGGINGFACE_HUB_CACHE", os.path.join(home, "hub"))
        )
    )
    owner, name = source.split("/", 1)
    candidates = [
        os.path.join(ds_cache, f"{owner}___{name}"),
        os.path.join(hub_cache, f"datasets--{owner}--{name}"),
    ]
    return [c for c in candidates if os.path.isdir(c)]


def _load_from_cache_offline(source: str, split: str) -> Any:
    """load_dataset with the offline switches flipped at runtime (they are read at import)."""
    import datasets

    patched: list[tuple[Any, str, Any]] = []

    def _set(mod: Any, attr: str, value: Any) -> None:
        if hasattr(mod, attr):
            patched.append((mod, attr, getattr(mod, attr)))
            setattr(mod, attr, value)

    try:
        import huggingface_hub.constants as hub_constants

        _set(hub_constants, "HF_HUB_OFFLINE", True)
    except ImportError:
        pass
    _set(datasets.config, "HF_DATASETS_OFFLINE", True)
    _set(datasets.config, "HF_HUB_OFFLINE", True)
    try:
        last: Exception | None = None
        for name in _split_names(split):
            try:
                return datasets.load_dataset(source, split=name)
            except ValueError as e:
                last = e
        raise DataLoadError(f"{source}: no split {split!r} in the cached copy ({last})")
    finally:
        for mod, attr, old in reversed(patched):
            setattr(mod, attr, old)


def _load_hub(source: str, split: str) -> Any:
    import datasets

    offline = _offline_env()
    if offline or not _hub_reachable():
        why = "offline mode is set (HF_*_OFFLINE)" if offline else "the hub is not reachable"
        if not _cached_copies(source):
            raise DataLoadError(_offline_message(source, f"{why}, and there is no cached copy"))
        try:
            return _load_from_cache_offline(source, split)
        except DataLoadError:
            raise
        except Exception as e:  # noqa: BLE001 - datasets raises many types when offline
            raise DataLoadError(
                _offline_message(source, f"{why}; the cached copy is unusable: {e}")
            ) from e
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", str(int(HUB_TIMEOUT_S)))
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", str(int(HUB_TIMEOUT_S)))
    last: Exception | None = None
    for name in _split_names(split):
        try:
            return datasets.load_dataset(source, split=name)
        except ValueError as e:
            last = e
        except Exception as e:  # noqa: BLE001
            raise DataLoadError(_offline_message(source, f"{type(e).__name__}: {e}")) from e
    raise DataLoadError(f"{source}: no split {split!r} ({last})")


def _pick_split(dd: Any, split: str, where: str) -> Any:
    for name in _split_names(split):
        if name in dd:
            return dd[name]
    raise DataLoadError(f"{where}: no split {split!r} (have: {', '.join(dd.keys())})")


def _load_saved(path: str, split: str) -> Any:
    import datasets

    try:
        obj = datasets.load_from_disk(path)
    except Exception as e:  # noqa: BLE001
        raise DataLoadError(f"{path}: not a readable save_to_disk dataset ({e})") from e
    if isinstance(obj, datasets.DatasetDict):
        return _pick_split(obj, split, path)
    return obj


def _parquet_files(path: str, split: str) -> list[str]:
    for name in _split_names(split):
        files = sorted(
            set(
                glob.glob(os.path.join(path, f"{name}.parquet"))
                + glob.glob(os.path.join(path, f"{name}-*.parquet"))
                + glob.glob(os.path.join(path, f"{name}_*.parquet"))
                + glob.glob(os.path.join(path, "data", f"{name}-*.parquet"))
                + glob.glob(os.path.join(path, "data", f"{name}.parquet"))
            )
        )
        if files:
            return files
    return []


def _load_parquet(path: str, split: str) -> Any:
    import datasets

    files = _parquet_files(path, split)
    if not files:
        have = sorted(
            {
                os.path.basename(f).split(".")[0].split("-")[0]
                for f in glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True)
            }
        )
        raise DataLoadError(
            f"{path}: no parquet files for split {split!r} (have: {', '.join(have) or 'none'})"
        )
    try:
        ds = datasets.Dataset.from_parquet(files if len(files) > 1 else files[0])
    except Exception as e:  # noqa: BLE001
        raise DataLoadError(f"{path}: unreadable parquet ({e})") from e
    if "image" in ds.column_names and not isinstance(ds.features["image"], datasets.Image):
        try:
            ds = ds.cast_column("image", datasets.Image())
        except Exception as e:  # noqa: BLE001
            raise DataLoadError(f"{path}: column 'image' is not an image ({e})") from e
    return ds


def pack_png_to_canvas(png: bytes, canvas: tuple[int, int] = CANVAS) -> bytes:
    """A pack image (ink-tight crop) -> the hub-style PNG: 4 px padding, top-left on a white canvas.

    A crop larger than the canvas allows is kept whole on a canvas grown to fit it.
    """
    from PIL import Image

    from training.pack import INK_PAD

    crop = Image.open(io.BytesIO(png)).convert("L")
    w = max(canvas[0], crop.width + 2 * INK_PAD)
    h = max(canvas[1], crop.height + 2 * INK_PAD)
    img = Image.new("L", (w, h), 255)
    img.paste(crop, (INK_PAD, INK_PAD))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _load_pack(path: str, split: str) -> Any:
    import hashlib

    import datasets

    from training.pack import PackError, read_pack

    last: Exception | None = None
    for name in _split_names(split):
        try:
            formulas, pngs = read_pack(path, name)
            break
        except PackError as e:
            last = e
    else:
        raise DataLoadError(str(last))
    features = datasets.Features(
        {
            "formula": datasets.Value("string"),
            "filename": datasets.Value("string"),
            "image": datasets.Image(),
        }
    )
    names = [
        hashlib.sha1(f"{name}\t{i}\t{f}".encode()).hexdigest()[:10] + ".png"
        for i, f in enumerate(formulas)
    ]
    images = [{"bytes": pack_png_to_canvas(p), "path": None} for p in pngs]
    return datasets.Dataset.from_dict(
        {"formula": formulas, "filename": names, "image": images}, features=features
    )


def _kind(path: str) -> str:
    if os.path.isfile(os.path.join(path, "meta.json")):
        import json

        try:
            with open(os.path.join(path, "meta.json"), encoding="utf-8") as fh:
                if json.load(fh).get("format") == "latexsnip-pack":
                    return "pack"
        except (OSError, ValueError):
            pass
    if os.path.isfile(os.path.join(path, "dataset_dict.json")) or os.path.isfile(
        os.path.join(path, "state.json")
    ):
        return "saved"
    if glob.glob(os.path.join(path, "*.parquet")) or glob.glob(
        os.path.join(path, "data", "*.parquet")
    ):
        return "parquet"
    return "unknown"


_LOADERS: dict[str, Callable[[str, str], Any]] = {
    "pack": _load_pack,
    "saved": _load_saved,
    "parquet": _load_parquet,
}


def load_im2latex(source: str, split: str) -> Any:
    """The ``split`` of ``source`` as a ``datasets.Dataset`` (columns formula, filename, image).

    Raises DataLoadError (a LatexSnipError) with a one-line explanation on any failure.
    """
    try:
        import datasets  # noqa: F401
    except ImportError as e:
        raise DataLoadError(
            "loading datasets needs the `datasets` package: pip install 'latexsnip[train]'"
        ) from e
    source = os.path.expanduser(str(source))
    if os.path.isdir(source):
        kind = _kind(source)
        if kind == "unknown":
            raise DataLoadError(
                f"{source}: not a dataset directory (expected save_to_disk output, {{split}}*.parquet files, "
                "or a pack with meta.json)"
            )
        return _LOADERS[kind](source, split)
    if os.path.exists(source):
        raise DataLoadError(f"{source}: is a file; pass the directory that holds the dataset")
    if _is_hub_id(source):
        return _load_hub(source, split)
    raise DataLoadError(f"{source}: no such directory (and not a hub id like {HUB_ID})")


def available_splits(source: str) -> list[str]:
    """Split names found in a local source (save_to_disk dir, parquet dir or pack)."""
    source = os.path.expanduser(str(source))
    kind = _kind(source) if os.path.isdir(source) else "unknown"
    if kind == "pack":
        from training.pack import read_pack_meta

        splits: dict[str, int] = read_pack_meta(source).get("splits", {})  # type: ignore[assignment]
        return list(splits)
    if kind == "saved":
        import json

        p = os.path.join(source, "dataset_dict.json")
        if os.path.isfile(p):
            with open(p, encoding="utf-8") as fh:
                return list(json.load(fh).get("splits", []))
        return ["train"]
    if kind == "parquet":
        files = glob.glob(os.path.join(source, "*.parquet")) + glob.glob(
            os.path.join(source, "data", "*.parquet")
        )
        return sorted(
            {os.path.basename(f).split(".")[0].split("-")[0].split("_")[0] for f in files}
        )
    raise DataLoadError(f"{source}: not a local dataset directory")
