from __future__ import annotations

import torch

from core.model import Encoder, ModelConfig, fast_tanh


def test_fast_tanh_is_tanh() -> None:
    x = torch.linspace(-30.0, 30.0, 20001)
    assert torch.allclose(fast_tanh(x), torch.tanh(x), atol=1e-6)
    xb = x.bfloat16()
    assert (fast_tanh(xb).float() - torch.tanh(xb).float()).abs().max() < 8e-3  # bf16 resolution


def test_fast_tanh_gradient() -> None:
    x = torch.linspace(-5.0, 5.0, 101, requires_grad=True)
    (g,) = torch.autograd.grad(fast_tanh(x).sum(), x)
    assert torch.allclose(g, 1 - torch.tanh(x.detach()) ** 2, atol=1e-6)


def test_encoder_grid_follows_canvas_width() -> None:
    enc = Encoder(ModelConfig(vocab_size=10, stages=2, enc_dim=32)).eval()
    with torch.no_grad():
        grids = {w: enc(torch.zeros(1, 1, 64, w)) for w in (64, 96, 320)}
    stride = 320 // grids[320][1][1]
    for w, (feats, (hf, wf)) in grids.items():
        assert feats.shape == (1, hf * wf, 32) and wf * stride == w  # trimmed canvases give shorter grids
