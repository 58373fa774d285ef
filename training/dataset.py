"""Formula images for training: raw images + token ids, augmented and preprocessed on the fly
by the ONE core.preprocess function, in length-bucketed batches that shard across DDP ranks."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.errors import ImageError, LatexSnipError
from core.preprocess import PreprocessConfig, canvas_width, pad_stack, preprocess_array
from core.vocab import PAD_ID, Vocab
from training.augment import AugmentConfig, augment


def load_samples(source: str, split: str, limit: int | None = None) -> tuple[list[str], list[bytes]]:
    """(formulas, encoded images) of one split from a pack dir, or anything training.data_load reads."""
    path = Path(source)
    if (path / "meta.json").is_file():
        from training.pack import read_pack

        formulas, images = read_pack(str(path), split)
    else:
        import datasets

        from training.data_load import load_im2latex

        ds = load_im2latex(source, split)
        ds = ds.cast_column("image", datasets.Image(decode=False))
        formulas = list(ds["formula"])
        images = [_image_bytes(x) for x in ds["image"]]
    if limit is not None:
        formulas, images = formulas[:limit], images[:limit]
    if not formulas:
        raise LatexSnipError(f"{source}: split {split!r} is empty")
    return formulas, images


def _image_bytes(entry: dict[str, object]) -> bytes:
    if entry.get("bytes"):
        return entry["bytes"]  # type: ignore[return-value]
    return Path(str(entry["path"])).read_bytes()


class FormulaImages(torch.utils.data.Dataset):
    """Items are indexed by (epoch, index) so augmentation is deterministic and resumable."""

    def __init__(
        self,
        formulas: list[str],
        images: list[bytes],
        vocab: Vocab,
        pre: PreprocessConfig,
        aug: AugmentConfig | None,
        seed: int = 0,
    ) -> None:
        self.ids = [vocab.encode(f) for f in formulas]
        self.images = images
        self.pre = pre
        self.aug = aug
        self.seed = seed

    def __len__(self) -> int:
        return len(self.ids)

    def lengths(self) -> np.ndarray:
        return np.array([len(x) for x in self.ids])

    def canvas_sizes(self, workers: int = 0) -> np.ndarray | None:
        """(N, 2): canvas height and width of every item as preprocessed without augmentation, for
        size-bucketed batches; None when canvases are not trimmed (every canvas is full width)."""
        if self.pre.trim_multiple <= 0:
            return None
        return canvas_sizes(self.images, self.pre, workers)

    def __getitem__(self, key: tuple[int, ...]) -> tuple[torch.Tensor, list[int]]:
        """key = (epoch, index) or (epoch, index, width cap): with a cap (the batch's widest
        un-augmented canvas) a formula that augmentation made wider is shrunk to fit it."""
        epoch, i = key[0], key[1]
        pre = self.pre if len(key) < 3 or key[2] <= 0 else dataclasses.replace(self.pre, width=key[2])
        im = Image.open(io.BytesIO(self.images[i])).convert("L")
        if self.aug is not None:
            rng = np.random.default_rng((self.seed, epoch, i))
            im = augment(im, self.aug, rng)
        try:
            canvas = preprocess_array(im, pre)  # (H, W) float 0..1
        except ImageError:  # a blank render: an all-zero canvas, trained to predict the formula anyway
            canvas = np.zeros((pre.height, canvas_width(1, pre)), np.float32)
        return torch.from_numpy((canvas * 255.0 + 0.5).astype(np.uint8)), self.ids[i]


def canvas_sizes(images: Sequence[bytes], pre: PreprocessConfig, workers: int = 0) -> np.ndarray:
    """(N, 2): canvas height and width of each encoded image as ``pre`` preprocesses it (no
    augmentation); with ``workers`` > 1 and many images, measured in that many processes."""
    if workers > 1 and len(images) > 4096:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            parts = pool.starmap(_canvas_sizes, [(images[s : s + 4096], pre) for s in range(0, len(images), 4096)])
        return np.concatenate(parts)
    return _canvas_sizes(images, pre)


def _canvas_sizes(images: Sequence[bytes], pre: PreprocessConfig) -> np.ndarray:
    out = np.empty((len(images), 2), dtype=np.int64)
    for i, data in enumerate(images):
        try:
            out[i] = preprocess_array(Image.open(io.BytesIO(data)).convert("L"), pre).shape
        except ImageError:
            out[i] = (pre.height, canvas_width(1, pre))
    return out


def collate(items: list[tuple[torch.Tensor, list[int]]]) -> tuple[torch.Tensor, torch.Tensor]:
    """-> images (B, 1, H, W) uint8 (trimmed canvases right-padded to the widest), tokens (B, T)
    with <bos> ... <eos> and PAD after."""
    imgs = pad_stack([x[0] for x in items])[:, None]  # (B, 1, H, W)
    t = max(len(x[1]) for x in items)
    tokens = torch.full((len(items), t), PAD_ID, dtype=torch.long)
    for j, (_, ids) in enumerate(items):
        tokens[j, : len(ids)] = torch.tensor(ids)
    return imgs, tokens


def epoch_batches(
    lengths: np.ndarray, batch_size: int, seed: int, epoch: int, rank: int = 0, world: int = 1,
    widths: np.ndarray | None = None, heights: np.ndarray | None = None,
) -> list[list[tuple[int, ...]]]:
    """Shuffled, length-bucketed batches of (epoch, index); rank r gets every world-th batch,
    all ranks the same count. Depends only on (seed, epoch): resumable by batch position.
    With ``widths`` (trimmed canvases) items are bucketed by width in 32 px steps first, then
    by length, and keys are (epoch, index, widest canvas of the batch): a batch is only as wide
    as that (length-only buckets nearly always hold one ~300 px formula). With ``heights`` too
    (canvases of several heights: the tall-formula rule) items are bucketed by height before
    width, so a batch pads few canvases to a taller one; equal heights change nothing."""
    rng = np.random.default_rng((seed, epoch, 7))
    perm = rng.permutation(len(lengths))
    chunk = batch_size * 64
    batches: list[np.ndarray] = []
    for s in range(0, len(perm), chunk):
        part = perm[s : s + chunk]
        if widths is None:
            part = part[np.argsort(lengths[part], kind="stable")]
        else:
            keys = (lengths[part], -(-widths[part] // 32))
            part = part[np.lexsort(keys if heights is None else (*keys, heights[part]))]
        batches.extend(part[j : j + batch_size] for j in range(0, len(part), batch_size))
    order = rng.permutation(len(batches))
    mine = [batches[k] for k in order][rank::world]
    n = len(batches) // world
    if widths is None:
        return [[(epoch, int(i)) for i in b] for b in mine[:n]]
    return [[(epoch, int(i), int(widths[b].max())) for i in b] for b in mine[:n]]
