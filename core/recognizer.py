"""The public API: ``Recognizer.load(path).recognize(image) -> Prediction``."""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import nn

from core import render_match
from core.array_columns import fit_array_columns
from core.checkpoint import Checkpoint, load_checkpoint
from core.decode import Decoded, beam_search_nbest, forced, greedy
from core.delimiters import balance_delimiters
from core.device import autocast, autocast_dtype, cpu_has_bf16, pick_device
from core.errors import ConfigError, ImageError
from core.int8 import int8_available, quantize_body, quantize_decoder, want_int8
from core.model import Im2Latex
from core.prediction import Prediction
from core.preprocess import PreprocessConfig, pad_stack, preprocess
from core.render_match import Renderer
from core.spacing import spacing_variants
from core.spelling import spelled
from core.variants import refinements

ImageLike = Image.Image | np.ndarray | str | Path
_Reading = tuple[Decoded, tuple[int, int], torch.Tensor]  # a hypothesis, its feature grid (Hf, Wf), its canvas
# Other readings a prediction offers (``Prediction.alternatives``). With beam 5 + render check, the first 300
# validation formulas drawn as web pages show them (MathJax, ``bench/robustness.py web_mathjax``): the right LaTeX is
# the kept reading for 35.7% of snips, it or one of 4 alternatives for 48.7% (docs/robustness.md).
MAX_ALTERNATIVES = 4


def open_image(image: ImageLike) -> Image.Image | np.ndarray:
    if isinstance(image, (str, Path)):
        try:
            with Image.open(image) as im:
                im.load()
                return im
        except FileNotFoundError:
            raise ImageError(f"{image}: no such file") from None
        except (UnidentifiedImageError, OSError) as e:
            raise ImageError(f"{image}: not a readable image ({e})") from None
    return image


def share_modules(dst: nn.Module, src: nn.Module, own: set[str]) -> None:
    """Make ``dst`` use ``src``'s submodules (same structure) except those holding a tensor named in ``own``."""
    for name, child in list(dst.named_children()):
        mine = {k[len(name) + 1 :] for k in own if k.startswith(name + ".")}
        if not mine:
            setattr(dst, name, src.get_submodule(name))
        elif any(True for _ in child.children()):
            share_modules(child, src.get_submodule(name), mine)


def typesettable(tokens: Sequence[str]) -> list[str]:
    """A reading with what TeX would refuse and the image cannot show put right: arrays' column specs as wide as
    their rows (``core.array_columns``), an unmatched ``\\left`` / ``\\right`` given an invisible partner
    (``core.delimiters``)."""
    return balance_delimiters(fit_array_columns(tokens))


class Recognizer:
    """Loads a checkpoint once and recognises images. A checkpoint with a wide head (see
    ``core.checkpoint``) reads snips whose canvas is larger than the preprocessing ``height`` x
    ``width`` (long or tall formulas) with that head and the rest with the main one; one that also
    has a tall head reads the canvases taller than ``height`` with it (and, where the preprocessing sets
    ``tall_also_shrunk``, also shrunk to ``height`` by the main or wide head, and the tall head's reading kept only
    where it is more confident by more than ``tall_margin``). All heads share the ResNet body.
    Snips the main head reads unsure are read again at other glyph heights when the preprocessing
    says so (``retry_glyph_heights``), unless a call passes ``reread_unsure=False`` (faster)."""

    def __init__(self, ckpt: Checkpoint, device: str = "auto", int8: bool | None = None) -> None:
        """``int8``: int8 decoder weights (``core.int8``); None chooses them on a CPU without fast bf16."""
        self.device = pick_device(device)
        self.checkpoint = ckpt
        self.vocab = ckpt.vocab
        self.preprocess_config = ckpt.preprocess
        self.dtype = autocast_dtype(self.device)
        # On a bf16-capable CPU the decoder keeps bf16 weights: autocast would re-cast every
        # weight at each of the ~50 decoding steps (measured: 61-68 ms -> 47 ms per formula).
        self.decoder_dtype: torch.dtype | None = None
        if int8 and self.device.type != "cpu":
            raise ConfigError(f"int8 decoding runs on the CPU only, not on {self.device.type}")
        self.int8 = (want_int8(self.device, cpu_has_bf16()) if int8 is None else int8) and int8_available()
        if self.device.type == "cpu" and self.dtype == torch.bfloat16 and not self.int8:
            self.decoder_dtype = torch.bfloat16
        self.model = self._ready(ckpt.build_model())
        # int8 ResNet body too, where the checkpoint carries its activation ranges (``training.int8_ranges``);
        # the extra heads below share whichever body the main model ends up with
        self.int8_body = False
        if self.int8 and ckpt.int8_body:
            body = quantize_body(self.model.encoder.body, ckpt.int8_body)
            if body is not self.model.encoder.body:
                self.model.encoder.body = cast(nn.Sequential, body)  # the int8 GraphModule is called as the Sequential was
                self.int8_body = True
        self.wide_model = self._extra_head(ckpt, "wide") if ckpt.has_wide_head else None
        self.tall_model = self._extra_head(ckpt, "tall") if ckpt.has_tall_head else None

    @property
    def encoder_dtype(self) -> torch.dtype | None:
        """The ResNet body's autocast dtype: None (no autocast) for fp32 and for the int8 body, which takes fp32."""
        return None if self.int8_body else self.dtype

    @property
    def encoder_precision(self) -> str:
        """What the ResNet body computes in: "int8", or autocast's dtype, e.g. "bfloat16", "float32"."""
        if self.int8_body:
            return "int8"
        return str(self.encoder_dtype or torch.float32).removeprefix("torch.")

    @property
    def decoder_precision(self) -> str:
        """What the decoder computes in: "int8", or its weights' (or autocast's) dtype, e.g. "bfloat16", "float32"."""
        if self.int8:
            return "int8"
        return str(self.decoder_dtype or self.dtype or torch.float32).removeprefix("torch.")

    def _extra_head(self, ckpt: Checkpoint, head: str) -> Im2Latex:
        model = ckpt.build_model(head)
        own = {k.removeprefix("encoder.body.") for k in ckpt.own_body(head)}
        if not own:
            model.encoder.body = self.model.encoder.body  # one copy of the shared body
        elif not self.int8_body:  # the body's modules shared but those it has its own copy of
            share_modules(model.encoder.body, self.model.encoder.body, own)
        # else (the main body is int8 now, with ranges measured on it): this head keeps its own whole fp32 body
        return self._ready(model)

    def _ready(self, model: Im2Latex) -> Im2Latex:
        model = model.eval().to(self.device)
        if self.device.type == "cpu":
            model = model.to(memory_format=torch.channels_last)
            if self.decoder_dtype is not None:
                model.decoder.to(self.decoder_dtype)
            elif self.int8:
                model.decoder = quantize_decoder(model.decoder)
        return model

    @classmethod
    def load(cls, path: str | Path, device: str = "auto", int8: bool | None = None) -> Recognizer:
        return cls(load_checkpoint(path), device, int8)

    def recognize(
        self, image: ImageLike, beam: int = 1, reread_unsure: bool = True,
        renderer: Renderer | Sequence[Renderer] | None = None,
    ) -> Prediction:
        return self.recognize_batch([image], beam=beam, reread_unsure=reread_unsure, renderer=renderer)[0]

    def recognize_batch(
        self,
        images: Sequence[ImageLike],
        beam: int = 1,
        reread_unsure: bool = True,
        renderer: Renderer | Sequence[Renderer] | None = None,
    ) -> list[Prediction]:
        """Every image is decoded; unusable ones raise ImageError (use per-image calls to isolate).
        ``reread_unsure=False`` reads each image once even where the checkpoint's preprocessing would
        read an unsure one again at its ``retry_glyph_heights``. With a ``renderer`` every reading's
        hypotheses (all ``beam`` of them, and the most confident one's spacing variants: ``core.spacing``) are
        typeset and the one that draws the snip most closely is kept (``core.render_match``; several renderers, e.g.
        one per font, are tried in turn), refined where it draws it nearly (``core.variants``); without one, the most
        confident reading. Either is made typesettable (``typesettable``) and written in the checkpoint's
        ``output_spelling`` (``core.spelling``); so are the other readings each prediction offers
        (``Prediction.alternatives``)."""
        t0 = time.perf_counter()
        opened = [open_image(im) for im in images]
        cfg = self.preprocess_config
        readings, groups = self._readings(opened, cfg, beam, reread_unsure)
        tall = groups.get("tall", [])
        preferred: dict[int, _Reading] = {}  # snips whose readings by two heads both stay candidates: the preferred one
        if tall and cfg.tall_also_shrunk:
            # each tall snip read again as without the tall rule: shrunk to ``height`` by the main or wide head;
            # the tall head's readings stay only where they are more confident by more than ``tall_margin`` (with
            # ``tall_render_both`` and a renderer, both stay, and the render check chooses)
            again, _ = self._readings([opened[i] for i in tall], dataclasses.replace(cfg, max_height=0), beam, reread_unsure)
            for k, i in enumerate(tall):
                shrunk_surer = max(r[0].score for r in again[k]) + cfg.tall_margin > max(r[0].score for r in readings[i])
                if renderer is not None and cfg.tall_render_both:
                    preferred[i] = max(again[k] if shrunk_surer else readings[i], key=lambda r: r[0].score)
                    readings[i] = readings[i] + again[k]
                elif shrunk_surer:
                    readings[i] = again[k]
        first = [preferred.get(i) or max(readings[i], key=lambda r: r[0].score) for i in range(len(opened))]
        chosen: list[tuple[_Reading, float | None]] = [(r, None) for r in first]
        if renderer is not None:
            chosen = self._closest_renderings(opened, readings, renderer, first)
        chosen = [(self._written(r), dist) for r, dist in chosen]
        ms = (time.perf_counter() - t0) * 1000.0 / max(len(images), 1)
        preds = [self._prediction(d, a, *grid, ms, dist) for (d, grid, a), dist in chosen]
        firsts = [" ".join(self._written_tokens(self.vocab.decode(f[0].ids))) for f in first]
        return [dataclasses.replace(p, first_choice=None if p.latex == f else f,
                                    alternatives=self._alternatives(p.latex, f, [r for r in readings[i] if r is not first[i]]))
                for i, (p, f) in enumerate(zip(preds, firsts, strict=True))]

    def _alternatives(self, kept: str, model_choice: str, others: Sequence[_Reading]) -> tuple[str, ...]:
        """The model's choice (as written) and then ``others`` by confidence, as the app writes them: distinct,
        without ``kept``, at most ``MAX_ALTERNATIVES``."""
        out: list[str] = []
        texts = (" ".join(self._written_tokens(self.vocab.decode(r[0].ids))) for r in sorted(others, key=lambda r: -r[0].score))
        for text in itertools.chain([model_choice], texts):
            if text != kept and text not in out:
                out.append(text)
        return tuple(out[:MAX_ALTERNATIVES])

    def _written_tokens(self, tokens: list[str]) -> list[str]:
        """``tokens`` as the app writes them: typesettable (``typesettable``), in the checkpoint's
        ``output_spelling`` (``core.spelling``)."""
        return spelled(typesettable(tokens), self.preprocess_config.output_spelling)

    def _written(self, reading: _Reading) -> _Reading:
        """``reading`` as the app writes it (``_written_tokens``), held to its new tokens where that changes them
        (the model's probabilities and attention for the tokens shown)."""
        tokens = self.vocab.decode(reading[0].ids)
        written = self._written_tokens(tokens)
        if written == tokens or not all(t in self.vocab for t in written):
            return reading
        return self._held_to(reading, " ".join(written))

    def _heads(self) -> dict[str, Im2Latex]:
        """The checkpoint's heads by name: "main", and "wide" / "tall" where it has them."""
        return {name: m for name, m in (("main", self.model), ("wide", self.wide_model), ("tall", self.tall_model))
                if m is not None}

    def _readings(
        self, images: list[Image.Image | np.ndarray], cfg: PreprocessConfig, beam: int, reread_unsure: bool
    ) -> tuple[dict[int, list[_Reading]], dict[str, list[int]]]:
        """Every image preprocessed with ``cfg`` and read by the head its canvas goes to (the unsure ones of the
        main head again at the retry glyph heights, with ``reread_unsure``): the readings per image and the
        images' indices per head."""
        arrays = [preprocess(im, cfg) for im in images]
        models = self._heads()
        extra = [name for name in models if name != "main"]
        groups: dict[str, list[int]] = {}
        for i, a in enumerate(arrays):
            groups.setdefault(cfg.head_for(a.shape[-2], a.shape[-1], extra), []).append(i)
        readings: dict[int, list[_Reading]] = {}
        for name, idx in groups.items():
            hyps, grid = self._decode(models[name], [arrays[i] for i in idx], beam)
            readings.update({i: [(d, grid, arrays[i]) for d in hs] for i, hs in zip(idx, hyps, strict=True)})
        if reread_unsure:
            self._retry_unsure(images, cfg, groups.get("main", []), readings, beam)
        return readings, groups

    def _retry_unsure(
        self,
        images: list[Image.Image | np.ndarray],
        cfg: PreprocessConfig,
        main_idx: list[int],
        readings: dict[int, list[_Reading]],
        beam: int,
    ) -> None:
        """Reads the main head's unsure snips again at ``cfg``'s retry glyph heights and adds those readings to
        ``readings``."""
        threshold = math.log(cfg.retry_confidence)
        unsure = [i for i in main_idx if max(r[0].score for r in readings[i]) < threshold]
        again = [(i, preprocess(images[i], c)) for c in cfg.retry_configs() for i in unsure]
        again = [(i, a) for i, a in again if not cfg.is_enlarged(a.shape[-2], a.shape[-1])]
        if not again:
            return
        # one batch for all the retries: decoding costs little more for more rows
        hyps, grid = self._decode(self.model, [a for _, a in again], beam)
        for (i, a), hs in zip(again, hyps, strict=True):
            readings[i] += [(d, grid, a) for d in hs]

    def _closest_renderings(
        self, images: list[Image.Image | np.ndarray], readings: dict[int, list[_Reading]],
        renderer: Renderer | Sequence[Renderer], first: list[_Reading],
    ) -> list[tuple[_Reading, float | None]]:
        """Per image, the reading whose rendering is closest to it (of equals, ``first`` and then the most confident),
        or ``first`` where none is close (``core.render_match.choose``); with that rendering's distance. ``first`` is
        the model's choice: the most confident reading, or the one the tall rule prefers."""
        ordered = [[f, *sorted((r for r in readings[i] if r is not f), key=lambda r: -r[0].score)]
                   for i, f in enumerate(first)]
        # made typesettable first: TeX refuses a row with more cells than columns, or a \right without its \left
        latex = [[" ".join(typesettable(self.vocab.decode(r[0].ids))) for r in rs] for rs in ordered]
        # after the model's readings, the most confident one's spacing variants (core.spacing)
        variants = [[" ".join(t) for t in spacing_variants(texts[0].split())
                     if all(w in self.vocab for w in t) and " ".join(t) not in texts]
                    for texts in latex]
        snips = [render_match.snip_ink(im, self.preprocess_config) for im in images]
        chosen = render_match.choose(snips, [t + v for t, v in zip(latex, variants, strict=True)],
                                     [renderer] if callable(renderer) else list(renderer), refine=self._refinements)
        out: list[tuple[_Reading, float | None]] = []
        for rs, texts, c in zip(ordered, latex, chosen, strict=True):
            if c is None:
                out.append((rs[0], None))
            elif c.reading < len(rs) and c.latex == texts[c.reading]:
                out.append((rs[c.reading], c.distance))
            else:  # a spacing variant of the first reading, or a reading refined (core.variants)
                out.append((self._held_to(rs[c.reading] if c.reading < len(rs) else rs[0], c.latex), c.distance))
        return out

    def _refinements(self, latex: str) -> list[str]:
        """The variants of a reading the render check tries when its rendering is close but not the same
        (``core.variants.refinements``), those the vocabulary can spell."""
        return [" ".join(t) for t in refinements(latex.split(" ")) if all(w in self.vocab for w in t)]

    def _held_to(self, reading: _Reading, latex: str) -> _Reading:
        """``reading``'s canvas read by its head held to the tokens of ``latex`` (``core.decode.forced``)."""
        array = reading[2]
        models = self._heads()
        model = models[self.preprocess_config.head_for(array.shape[-2], array.shape[-1], [n for n in models if n != "main"])]
        feats, grid = self._features(model, [array])  # its own grid: a batch's is as wide as its widest canvas
        with torch.inference_mode(), autocast(self.device, self._decoder_autocast):
            return forced(model, feats, self.vocab.encode(latex)[1:-1]), grid, array

    def _decode(
        self, model: Im2Latex, arrays: list[torch.Tensor], beam: int
    ) -> tuple[list[list[Decoded]], tuple[int, int]]:
        """Per canvas of one batch read by one head, its hypotheses, best first (greedy: the one; beam search: all
        ``beam`` of them, which cost no more than its best: the render check's candidates and the alternatives
        offered), and the feature grid (Hf, Wf)."""
        feats, grid = self._features(model, arrays)
        with torch.inference_mode(), autocast(self.device, self._decoder_autocast):
            if beam <= 1:
                return [[d] for d in greedy(model, feats)], grid
            return beam_search_nbest(model, feats, beam), grid

    @property
    def _decoder_autocast(self) -> torch.dtype | None:
        return self.dtype if self.decoder_dtype is None and not self.int8 else None

    def _features(self, model: Im2Latex, arrays: list[torch.Tensor]) -> tuple[torch.Tensor, tuple[int, int]]:
        """The encoder's features of one batch of canvases, as the decoder takes them, and the grid (Hf, Wf)."""
        batch = pad_stack(arrays).to(self.device)  # (B, 1, H, W)
        if self.device.type == "cpu":
            batch = batch.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            with autocast(self.device, self.encoder_dtype):
                feats, grid = model.encoder(batch)  # (B, L, D)
            if self.decoder_dtype is not None:
                feats = feats.to(self.decoder_dtype)
            elif self.int8:
                # the int8 layers take fp32 activations (never autocast) and refuse non-finite ones, which a
                # diverged or corrupt model gives: it then reads garbage, as in fp32, instead of raising
                feats = torch.nan_to_num(feats.float(), nan=0.0, posinf=0.0, neginf=0.0)
        return feats, grid

    def _prediction(
        self, d: Decoded, model_input: torch.Tensor, hf: int, wf: int, ms: float, render_distance: float | None
    ) -> Prediction:
        tokens = self.vocab.decode(d.ids)
        attention = d.alphas.float().numpy().reshape(-1, hf, wf) if d.alphas.numel() else np.zeros((0, hf, wf), np.float32)
        keep = [i for i, t in enumerate(d.ids) if t >= 4]
        return Prediction(
            latex=" ".join(tokens),
            tokens=tokens,
            token_probs=[d.probs[i] for i in keep],
            score=d.score,
            ms=ms,
            attention=attention[keep] if len(keep) != len(d.ids) else attention,
            model_input=model_input[0].numpy(),
            render_distance=render_distance,
        )
