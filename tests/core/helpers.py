"""Formula images the tests draw themselves, and a tiny model trained on them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

from core.checkpoint import (
    WIDE_PREFIX,
    Checkpoint,
    clean_state_dict,
    is_head_tensor,
    save_checkpoint,
)
from core.model import Im2Latex, ModelConfig, sequence_loss
from core.preprocess import PreprocessConfig, preprocess
from core.recognizer import Recognizer
from core.vocab import EOS_ID, PAD_ID, Vocab

FORMULAS = ["x + 1", "a = b", "y - 2", "k > 0", "1 + 2 = 3", "b < a"]
TINY = dict(stages=1, enc_dim=64, emb_dim=32, hidden=96, attn_dim=32, dropout=0.0, max_len=20)
TINY_PRE = PreprocessConfig(height=32, width=128, glyph_height=12.0)


def draw(formula: str, size: int = 20, scale: int = 1) -> Image.Image:
    text = formula.replace(" ", "")
    font = ImageFont.load_default(size=size * scale)
    im = Image.new("L", (14 * len(text) * scale + 20, 40 * scale), 255)
    ImageDraw.Draw(im).text((8 * scale, 6 * scale), text, fill=0, font=font)
    return im


def reader(weights: Path) -> Recognizer:
    """A CPU recogniser (no int8) of ``weights`` that reads every snip once: no retries at other glyph heights."""
    rec = Recognizer.load(weights, device="cpu", int8=False)
    rec.preprocess_config = dataclasses.replace(rec.preprocess_config, retry_glyph_heights=())
    return rec


def train_tiny(path: Path, steps: int = 150, seed: int = 0) -> Checkpoint:
    """Overfit the real model (tiny config) on FORMULAS drawn with PIL; save the checkpoint."""
    torch.manual_seed(seed)
    vocab = Vocab.build(FORMULAS)
    cfg = ModelConfig(vocab_size=len(vocab), **TINY)  # type: ignore[arg-type]
    model = Im2Latex(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    x = torch.stack([preprocess(draw(f), TINY_PRE) for f in FORMULAS])  # (N, 1, H, W)
    ids = [vocab.encode(f) for f in FORMULAS]
    tok = torch.full((len(ids), max(map(len, ids))), PAD_ID)
    for j, s in enumerate(ids):
        tok[j, : len(s)] = torch.tensor(s)
    model.train()
    for _ in range(steps):
        logits, _ = model(x, tok[:, :-1])
        loss = sequence_loss(logits, tok[:, 1:], PAD_ID)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if loss.item() < 0.005:
            break
    ckpt = Checkpoint(cfg, vocab, TINY_PRE, clean_state_dict(model, torch.float16), {"test": True}, {"loss": loss.item()})
    save_checkpoint(path, ckpt)
    return ckpt


def with_wide_head(ckpt: Checkpoint) -> Checkpoint:
    """``ckpt`` plus a wide head that ends every formula at once (its output layer always says <eos>)."""
    state = dict(ckpt.state_dict)
    for k, v in ckpt.state_dict.items():
        if is_head_tensor(k):
            state[WIDE_PREFIX + k] = v.clone()
    state[WIDE_PREFIX + "decoder.out.weight"] = torch.zeros_like(state["decoder.out.weight"])
    bias = torch.zeros_like(state["decoder.out.bias"])
    bias[EOS_ID] = 10.0
    state[WIDE_PREFIX + "decoder.out.bias"] = bias
    pre = dataclasses.replace(ckpt.preprocess, max_width=256, min_fit_scale=0.9, trim_multiple=32)
    return dataclasses.replace(ckpt, state_dict=state, preprocess=pre)
