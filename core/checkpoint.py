"""The checkpoint format: ONE .safetensors file = weights + JSON metadata.

Metadata key ``latexsnip`` holds JSON: format version, model config, vocabulary, preprocessing
config, training provenance and metrics, and optionally the int8 ranges of the ResNet body's
activations (``int8_body``, read by CPUs without fast bf16; older readers ignore it). Loading never unpickles anything.

A checkpoint may carry a second head for long and tall formulas: tensors named ``wide.`` + a head
tensor's name (the 1x1 projection and the decoder, ``HEAD_PARTS``) replace the main head's for snips
that the preprocessing puts on a canvas wider than its ``width`` or taller than its ``height`` (see
``core.preprocess``), and a third, ``tall.``, may take the taller canvases from it; the ResNet body is
shared. An extra head may also hold its own copy of some body tensors (``wide.encoder.body.6.5.conv1.weight``):
those of the body's last blocks, when they were trained further for the main head after the extra head was trained
on them (``latexsnip train --train-last-blocks``); it then reads with them and shares the rest. ``training.heads``
joins checkpoints that share a body into one.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from core.errors import CheckpointError
from core.model import Im2Latex, ModelConfig
from core.preprocess import PreprocessConfig
from core.vocab import Vocab

FORMAT = "latexsnip-checkpoint"
VERSION = 1
WIDE_PREFIX = "wide."  # tensors of the long-formula head
TALL_PREFIX = "tall."  # tensors of the tall-formula head (reads canvases taller than `height` when present)
HEAD_PREFIXES = {"wide": WIDE_PREFIX, "tall": TALL_PREFIX}
HEAD_PARTS = ("encoder.proj.", "decoder.")  # what a head holds; the rest (the ResNet body) is shared


def is_head_tensor(name: str) -> bool:
    return name.startswith(HEAD_PARTS)


@dataclass
class Checkpoint:
    model_config: ModelConfig
    vocab: Vocab
    preprocess: PreprocessConfig
    state_dict: dict[str, torch.Tensor]
    provenance: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    source: str = "<memory>"
    # int8 ranges of the ResNet body's activations (``core.int8.calibrate_body``, ``training.int8_ranges``):
    # observer name -> [scale, zero_point]; empty = the body is not read in int8. They belong to these body
    # weights: a checkpoint built from new weights starts without them.
    int8_body: dict[str, list[float]] = field(default_factory=dict)

    @property
    def has_wide_head(self) -> bool:
        return any(k.startswith(WIDE_PREFIX) for k in self.state_dict)

    @property
    def has_tall_head(self) -> bool:
        return any(k.startswith(TALL_PREFIX) for k in self.state_dict)

    def head_tensors(self, head: str) -> dict[str, torch.Tensor]:
        """The tensors of an extra head ("wide" or "tall"), named as in a one-head model."""
        prefix = HEAD_PREFIXES[head]
        return {k[len(prefix) :]: v for k, v in self.state_dict.items() if k.startswith(prefix)}

    def own_body(self, head: str) -> set[str]:
        """The body tensors an extra head holds its own copy of (named as in a one-head model); empty when it
        shares the whole body."""
        return {k for k in self.head_tensors(head) if not is_head_tensor(k)}

    def build_model(self, head: str = "main") -> Im2Latex:
        """The model with these weights (``head`` "wide" or "tall": that head on the shared body);
        a key or shape mismatch raises CheckpointError."""
        if head != "main" and head not in HEAD_PREFIXES:
            raise ValueError(f"unknown head {head!r} (main, {' or '.join(HEAD_PREFIXES)})")
        extra = {name: self.head_tensors(name) for name in HEAD_PREFIXES}
        if head != "main" and not extra[head]:
            raise CheckpointError(f"{self.source}: has no {head} head")
        state = {k: v for k, v in self.state_dict.items() if not k.startswith(tuple(HEAD_PREFIXES.values()))}
        with torch.device("meta"):  # no time spent initialising weights that are replaced anyway
            model = Im2Latex(self.model_config)
        expected = model.state_dict()
        self._check(state, expected, "")
        for name, tensors in extra.items():
            if tensors:  # the head's tensors, and the body tensors it has its own copy of
                wanted = {k: v for k, v in expected.items() if is_head_tensor(k) or k in tensors}
                self._check(tensors, wanted, HEAD_PREFIXES[name])
        if head != "main":
            state.update(extra[head])
        model.load_state_dict(state, assign=True)
        return model.float()

    def _check(self, state: dict[str, torch.Tensor], expected: dict[str, torch.Tensor], prefix: str) -> None:
        for k, v in expected.items():
            if k not in state:
                raise CheckpointError(f"{self.source}: weights do not match the model (missing tensor {prefix}{k})")
            got = tuple(state[k].shape)
            if got != tuple(v.shape):
                raise CheckpointError(
                    f"{self.source}: weights do not match the model ({prefix}{k} has shape {got}, expected {tuple(v.shape)})"
                )
        extra = sorted(prefix + k for k in set(state) - set(expected))
        if extra:
            raise CheckpointError(f"{self.source}: weights do not match the model (unexpected tensors {extra[:3]})")


def clean_state_dict(model: torch.nn.Module, dtype: torch.dtype | None = None) -> dict[str, torch.Tensor]:
    """State dict without compile/DDP prefixes, contiguous, optionally cast (floats only)."""
    out = {}
    for k, v in model.state_dict().items():
        k = k.replace("_orig_mod.", "").removeprefix("module.")
        v = v.detach().cpu()
        if dtype is not None and v.is_floating_point():
            v = v.to(dtype)
        out[k] = v.contiguous()
    return out


def save_checkpoint(path: str | Path, ckpt: Checkpoint) -> None:
    """Atomic write: a crash leaves the old file or the new one, never half of one."""
    path = Path(path)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "model": ckpt.model_config.to_dict(),
        "vocab": list(ckpt.vocab.tokens),
        "preprocess": ckpt.preprocess.to_dict(),
        "provenance": ckpt.provenance,
        "metrics": ckpt.metrics,
    }
    if ckpt.int8_body:
        meta["int8_body"] = ckpt.int8_body
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        save_file(ckpt.state_dict, tmp, metadata={"latexsnip": json.dumps(meta)})
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; weights are not secret
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def dataclass_from(cls: type, data: Any, what: str, path: Path) -> Any:
    """``cls(**data)`` from saved metadata, or a CheckpointError naming ``path`` and ``what`` (a missing section,
    fields made by a newer latexsnip, bad values) instead of a TypeError."""
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: metadata has no {what} section")
    names = {f.name for f in fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise CheckpointError(f"{path}: unknown {what} fields {sorted(unknown)} (made by a newer latexsnip?)")
    try:
        return cls(**data)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: bad {what} section: {e}") from None


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON metadata alone (cheap: reads the header, not the weights)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: weights file not found")
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise CheckpointError(f"{path}: file is empty or truncated (not a .safetensors file)")
            n = int.from_bytes(head, "little")
            if n <= 0 or n > 100_000_000:
                raise CheckpointError(f"{path}: not a .safetensors file (bad header length)")
            header = json.loads(fh.read(n))
        raw = header.get("__metadata__", {}).get("latexsnip")
    except (ValueError, UnicodeDecodeError, AttributeError):
        raise CheckpointError(f"{path}: corrupt .safetensors header") from None
    if raw is None:
        raise CheckpointError(f"{path}: a .safetensors file, but not a latexsnip checkpoint (no metadata)")
    try:
        meta = json.loads(raw)
    except ValueError:
        raise CheckpointError(f"{path}: corrupt latexsnip metadata") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a latexsnip checkpoint")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {meta.get('version')} is not supported (expected {VERSION})")
    return meta


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read and validate; any problem raises CheckpointError naming the file and the fault."""
    path = Path(path)
    meta = read_metadata(path)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: cannot read the weights ({e}); the file is truncated or corrupt") from None
    try:
        vocab = Vocab(tuple(meta["vocab"]))
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: bad vocabulary in metadata ({e})") from None
    cfg = dataclass_from(ModelConfig, meta.get("model"), "model", path)
    if cfg.vocab_size != len(vocab):
        raise CheckpointError(f"{path}: model expects {cfg.vocab_size} tokens but the vocabulary has {len(vocab)}")
    pre = dataclass_from(PreprocessConfig, meta.get("preprocess"), "preprocess", path)
    check_heads_used(state, pre, str(path))
    int8_body = meta.get("int8_body", {})
    if not isinstance(int8_body, dict) or not all(
        isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v) for v in int8_body.values()
    ):
        raise CheckpointError(f"{path}: bad int8_body section in metadata (expected name -> [scale, zero_point])")
    return Checkpoint(cfg, vocab, pre, state, meta.get("provenance", {}), meta.get("metrics", {}), str(path), int8_body)


def check_heads_used(state: dict[str, torch.Tensor], pre: PreprocessConfig, source: str) -> None:
    """CheckpointError when an extra head could never be used with this preprocessing: a wide head without
    a canvas rule (``max_width`` or ``max_height``), a tall head without ``max_height``."""
    if any(k.startswith(WIDE_PREFIX) for k in state) and not pre.enlarges:
        raise CheckpointError(f"{source}: has a wide head but its preprocessing never makes a canvas larger than "
                              f"{pre.height}x{pre.width} px (max_height {pre.max_height}, max_width {pre.max_width})")
    if any(k.startswith(TALL_PREFIX) for k in state) and not pre.heightens:
        raise CheckpointError(f"{source}: has a tall head but its preprocessing never makes a canvas taller than "
                              f"{pre.height} px (max_height {pre.max_height})")
