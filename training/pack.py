"""The compact training-data pack carried to a GPU machine (read with pyarrow only).

Layout of PACKDIR:
  {split}.parquet  columns ``formula`` (string) and ``png`` (binary): the formula image cropped
                   tightly to ink (no canvas, no padding), ink dark on white, as a small
                   grayscale PNG with ``levels`` evenly spaced gray levels (default 4 = 2 bits
                   per pixel; any PNG reader decodes it to 0/85/170/255).
  meta.json        format, version, levels, per-split counts, how the images were rendered.

To get back im2latex geometry, pad 4 px of white on each side (the processed image) and paste
at the top-left of a 320x64 white canvas (the hub's images).

CLI: ``latexsnip data pack --data DIR --out PACKDIR [--levels 4]``, DIR being a dataset saved
by ``latexsnip data build`` (or anything ``load_im2latex`` reads).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import struct
import sys
import zlib
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from core.errors import LatexSnipError

__all__ = [
    "PackError",
    "encode_png",
    "ink_crop",
    "main",
    "read_pack",
    "read_pack_meta",
    "write_pack",
]

PACK_FORMAT = "latexsnip-pack"
PACK_VERSION = 1
DEFAULT_LEVELS = 4
INK_PAD = 4  # white px around the ink in a processed im2latex image
_BITS = {2: 1, 4: 2, 16: 4, 256: 8}


class PackError(LatexSnipError):
    """A pack directory is missing, incomplete or not a pack."""


def ink_crop(image: Image.Image | np.ndarray, threshold: int = 255) -> np.ndarray | None:
    """Grayscale array cropped to the pixels darker than ``threshold`` (None if there are none)."""
    a = np.asarray(image.convert("L") if isinstance(image, Image.Image) else image, dtype=np.uint8)
    ink = a < threshold
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(ink.any(axis=0))
    return a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + tag
        + data
        + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    )


def quantize(arr: np.ndarray, levels: int) -> np.ndarray:
    """uint8 gray -> level indices 0..levels-1 (0 black, levels-1 white), nearest level."""
    step = 255.0 / (levels - 1)
    return np.clip(np.rint(arr.astype(np.float32) / step), 0, levels - 1).astype(np.uint8)


def encode_png(
    arr: np.ndarray | Image.Image, levels: int = DEFAULT_LEVELS, crop: bool = True
) -> bytes | None:
    """uint8 grayscale -> small grayscale PNG with ``levels`` evenly spaced gray levels.

    The image is quantized to 2, 4, 16 or 256 levels (bit depth 1, 2, 4, 8; any PNG reader gives
    back 0, 255/(levels-1), ..., 255) and, with ``crop``, cropped to the pixels that are not
    white after quantizing. Returns None when nothing is left (blank image).
    Measured on 3,000 rendered formulas: mean 413 B (2 levels), 626 B (4), ~1.2 kB (16),
    2.2 kB (256); mean absolute error 9.8 / 3.7 / 1.0 / 0 gray values.
    """
    if levels not in _BITS:
        raise ValueError(f"levels must be 2, 4, 16 or 256, not {levels}")
    a = np.asarray(arr.convert("L") if isinstance(arr, Image.Image) else arr, dtype=np.uint8)
    q = quantize(a, levels) if levels != 256 else a
    if crop:
        ink = q < (levels - 1)
        rows = np.flatnonzero(ink.any(axis=1))
        if rows.size == 0:
            return None
        cols = np.flatnonzero(ink.any(axis=0))
        q = q[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = q.shape
    if h == 0 or w == 0:
        return None
    bits = _BITS[levels]
    per = 8 // bits
    if per > 1:
        pw = -(-w // per) * per
        padded = np.zeros((h, pw), np.uint8)
        padded[:, :w] = q
        groups = padded.reshape(h, pw // per, per).astype(np.uint16)
        packed = np.zeros((h, pw // per), np.uint16)
        for k in range(per):
            packed = (packed << bits) | groups[:, :, k]
        rows_bytes = packed.astype(np.uint8)
    else:
        rows_bytes = q
    raw = np.concatenate(
        [np.zeros((h, 1), np.uint8), rows_bytes], axis=1
    ).tobytes()  # filter 0 per row
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bits, 0, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )


def decode_png(data: bytes) -> Image.Image:
    """A pack PNG -> grayscale PIL image (mode "L")."""
    return Image.open(io.BytesIO(data)).convert("L")


def _write_table(path: str, formulas: Sequence[str], pngs: Sequence[bytes]) -> None:
    table = pa.table(
        {"formula": pa.array(list(formulas), pa.string()), "png": pa.array(list(pngs), pa.binary())}
    )
    tmp = path + ".tmp"
    pq.write_table(table, tmp, compression="zstd", row_group_size=8192)
    os.replace(tmp, path)


def write_pack(
    packdir: str,
    splits: Mapping[str, Iterable[tuple[str, Image.Image | np.ndarray | bytes]]],
    levels: int = DEFAULT_LEVELS,
    meta: Mapping[str, object] | None = None,
    already_encoded: bool = False,
) -> dict[str, object]:
    """Write PACKDIR/{split}.parquet + meta.json; returns the meta dict.

    ``splits`` maps a split name to (formula, image) pairs; an image is any grayscale image of
    the formula (processed or on a canvas), ink dark on white: it is quantized and cropped to
    ink here. With ``already_encoded`` the images are pack PNG bytes (from ``encode_png``).
    Formulas whose image has no ink are skipped and counted in meta["skipped_blank"].
    """
    os.makedirs(packdir, exist_ok=True)
    counts: dict[str, int] = {}
    skipped: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for split, rows in splits.items():
        formulas: list[str] = []
        pngs: list[bytes] = []
        blank = 0
        for formula, image in rows:
            if already_encoded:
                data = image if isinstance(image, bytes) else None
            else:
                data = encode_png(image, levels)  # type: ignore[arg-type]
            if data is None:
                blank += 1
                continue
            formulas.append(formula)
            pngs.append(data)
        path = os.path.join(packdir, f"{split}.parquet")
        _write_table(path, formulas, pngs)
        counts[split] = len(formulas)
        skipped[split] = blank
        sizes[split] = os.path.getsize(path)
    info: dict[str, object] = {
        "format": PACK_FORMAT,
        "version": PACK_VERSION,
        "levels": levels,
        "image": (
            "formula image cropped tightly to ink (ink dark on white), grayscale PNG with "
            f"{levels} evenly spaced gray levels (bit depth {_BITS[levels]}); pad {INK_PAD} px white on each side to get the processed "
            "im2latex image, paste it top-left on a 320x64 white canvas to get the hub's image"
        ),
        "splits": counts,
        "skipped_blank": skipped,
        "bytes": sizes,
    }
    if meta:
        info.update({k: v for k, v in meta.items() if k not in info})
    with open(os.path.join(packdir, "meta.json"), "w", encoding="utf-8") as fh:
        json.dump(info, fh, indent=2, sort_keys=True)
    return info


def read_pack_meta(packdir: str) -> dict[str, object]:
    path = os.path.join(packdir, "meta.json")
    if not os.path.isfile(path):
        raise PackError(f"{packdir}: not a pack directory (no meta.json)")
    try:
        with open(path, encoding="utf-8") as fh:
            meta = json.load(fh)
    except (OSError, ValueError) as e:
        raise PackError(f"{path}: unreadable ({e})") from e
    if meta.get("format") != PACK_FORMAT:
        raise PackError(f"{path}: not a latexsnip pack (format {meta.get('format')!r})")
    return meta


def read_pack(packdir: str, split: str) -> tuple[list[str], list[bytes]]:
    """(formulas, png bytes) of one split of a pack; pyarrow only."""
    path = os.path.join(packdir, f"{split}.parquet")
    if not os.path.isfile(path):
        have = (
            sorted(f[: -len(".parquet")] for f in os.listdir(packdir) if f.endswith(".parquet"))
            if os.path.isdir(packdir)
            else []
        )
        raise PackError(
            f"{packdir}: no split {split!r} in the pack (have: {', '.join(have) or 'none'})"
        )
    try:
        table = pq.read_table(path, columns=["formula", "png"])
    except Exception as e:  # pyarrow raises several types for corrupt files
        raise PackError(f"{path}: unreadable parquet ({e})") from e
    return table.column("formula").to_pylist(), table.column("png").to_pylist()


def main(argv: list[str] | None = None) -> int:
    """``latexsnip data pack --data DIR --out PACKDIR``."""
    ap = argparse.ArgumentParser(
        prog="latexsnip data pack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--data", required=True, help="dataset directory (save_to_disk / parquet / hub id)"
    )
    ap.add_argument("--out", required=True, help="pack directory to write")
    ap.add_argument("--splits", default=None, help="comma-separated splits (default: all found)")
    ap.add_argument("--levels", type=int, default=DEFAULT_LEVELS, choices=(2, 4, 16, 256))
    args = ap.parse_args(argv)
    from training.data_load import available_splits, load_im2latex

    try:
        names = args.splits.split(",") if args.splits else available_splits(args.data)
        splits = {}
        for name in names:
            ds = load_im2latex(args.data, name)
            splits[name] = ((row["formula"], row["image"]) for row in ds)
        meta = write_pack(
            args.out, splits, levels=args.levels, meta={"source": os.path.abspath(args.data)}
        )
    except LatexSnipError as e:
        print(f"latexsnip data pack: {e}", file=sys.stderr)
        return 1
    sizes: dict[str, int] = meta["bytes"]  # type: ignore[assignment]
    total = sum(sizes.values())
    print(f"wrote {args.out}: {meta['splits']} ({total / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
