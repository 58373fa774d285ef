"""`latexsnip train`: train the core model; resumable, bf16, length-bucketed, DDP-ready."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from core.checkpoint import (
    Checkpoint,
    clean_state_dict,
    dataclass_from,
    load_checkpoint,
    save_checkpoint,
)
from core.config_json import with_overrides
from core.decode import greedy
from core.device import autocast, autocast_dtype, pick_device
from core.errors import CheckpointError, ConfigError, LatexSnipError
from core.model import Im2Latex, ModelConfig, sequence_loss
from core.preprocess import PreprocessConfig, config_with
from core.vocab import PAD_ID, Vocab
from training.augment import NO_AUGMENT, AugmentConfig
from training.dataset import FormulaImages, collate, epoch_batches, load_samples
from training.label_style import LABEL_STYLES, label_style
from training.provenance import compact
from training.schedule import lr_at

STATE = "last.pt"
BEST = "best.safetensors"
VAL_DIR = "val_weights"
_RESUME_OVERRIDES = ("max_steps", "max_minutes", "workers", "ckpt_minutes")  # options --resume may change
LOG = "log.jsonl"


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 500
    max_steps: int = 100_000
    max_minutes: float = 0.0  # 0 = no time limit; else the schedule also follows wall time
    label_smoothing: float = 0.1
    clip: float = 1.0
    min_count: int = 2  # tokens rarer than this in train become <unk>
    max_tokens: int = 150  # longer train formulas are left out
    ckpt_minutes: float = 5.0
    val_every: int = 1000
    val_size: int = 300
    seed: int = 0
    workers: int = 2
    augment: bool = True
    freeze_stages: int = 0  # stem + this many ResNet stages keep their weights (fine-tuning on a CPU)
    train_last_blocks: int = 0  # of a frozen last stage, this many last blocks learn all the same
    freeze_bn: bool = False  # every batch norm of the body keeps its statistics and scale/shift (small batches)
    label_style: str = "as-is"  # training.label_style: spelling the train labels are rewritten to


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="latexsnip train",
        description="Train the recogniser. Input: a dataset (hub id, saved `datasets` directory, parquet "
        "directory, `latexsnip data build` output or a pack directory) with splits train and val. "
        f"Output: RUN_DIR/{STATE} (resumable state, written every few minutes and on Ctrl-C/SIGTERM), "
        f"RUN_DIR/{BEST} (best validation checkpoint, the format `latexsnip predict` loads), "
        f"RUN_DIR/{LOG} (JSON lines) and RUN_DIR/curves.png.",
    )
    p.add_argument("--data", required=True, help="dataset source")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.pt")
    p.add_argument("--init", help="start from the weights of this .safetensors checkpoint (fine-tune)")
    p.add_argument("--init-head", choices=("main", "wide", "tall"), default="main",
                   help="with an --init that has a wide (or tall) head (training.heads): start from that head instead of the "
                   "main one (default main); the run writes one-head checkpoints either way, with the file's "
                   "preprocessing (its wide-canvas rule included: --preprocess '{\"max_width\": 0}' trains a main head "
                   "on 320-px canvases only, as it reads in the joined file)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument("--max-steps", type=int, help=f"stop after N steps (default {TrainConfig.max_steps}; "
                   "with --resume: the run's own unless given)")
    p.add_argument("--max-minutes", type=float, help="stop (and anneal the LR) by wall time (default: none; "
                   "with --resume: the run's own unless given)")
    p.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    p.add_argument("--lr", type=float, default=TrainConfig.lr)
    p.add_argument("--warmup-steps", type=int, default=TrainConfig.warmup_steps)
    p.add_argument("--workers", type=int, help=f"DataLoader processes (default {TrainConfig.workers}; "
                   "with --resume: the run's own unless given)")
    p.add_argument("--val-every", type=int, default=TrainConfig.val_every)
    p.add_argument("--val-size", type=int, default=TrainConfig.val_size)
    p.add_argument("--log-every", type=int, default=100, help="log at least every N steps (and every 10 s)")
    p.add_argument("--ckpt-minutes", type=float, help=f"save the resumable state every N minutes (default "
                   f"{TrainConfig.ckpt_minutes:g}; with --resume: the run's own unless given)")
    p.add_argument("--limit", type=int, help="use only the first N training formulas")
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default="{}", help='JSON overrides of ModelConfig, e.g. \'{"stages": 2}\'')
    p.add_argument("--preprocess", default="{}", help="JSON overrides of PreprocessConfig (also on top of --init's), "
                   'e.g. \'{"trim_multiple": 32}\' to cut blank canvas columns')
    p.add_argument("--freeze-stages", type=int, default=0, choices=range(0, 5), metavar="N",
                   help="fine-tuning: keep the stem and the first N ResNet stages fixed (no backward through "
                   "them; about 1.6x faster encoder training on a CPU with N=2)")
    p.add_argument("--train-last-blocks", type=int, default=0, metavar="K",
                   help="with --freeze-stages covering the body's last stage: its last K residual blocks learn "
                   "all the same (the body's coarsest features adapt at little cost on a CPU)")
    p.add_argument("--freeze-bn", action="store_true",
                   help="every batch norm of the body keeps the statistics and scale/shift it was loaded with, "
                   "while the convolutions learn: whole-body fine-tuning with small batches (a CPU's 32) "
                   "without batch-norm statistics drifting away from what the other heads of --init read")
    p.add_argument("--label-style", choices=sorted(LABEL_STYLES), default=TrainConfig.label_style,
                   help="rewrite the train labels to one spelling of identically rendering commands: im2latex = "
                   "the old spellings im2latex mostly uses ({ \\cal L }, { \\bf x }, \\rightarrow, \\leq); "
                   "as-is = keep them (val labels are never rewritten)")
    p.add_argument("--keep-val-weights", action="store_true",
                   help=f"also write the weights of every validation, fp16, to RUN_DIR/{VAL_DIR}/stepNNNNNN.safetensors "
                   "(candidates for `python -m training.soup`; a resumed run whose RUN_DIR has that folder keeps doing so)")
    p.add_argument("--plot", action="store_true", help="open a live plot of the curves")
    return p


class Trainer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.rank = int(os.environ.get("RANK", "0"))
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.device = pick_device(args.device)
        if self.world > 1:
            if self.device.type == "cuda":
                torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
                self.device = torch.device("cuda", torch.cuda.current_device())
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        self.stop_requested = False
        state_path = self.out / STATE
        resume_state: dict[str, Any] | None = None
        if args.resume and state_path.is_file():
            try:
                resume_state = torch.load(state_path, map_location="cpu", weights_only=True)
            except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as e:
                raise CheckpointError(f"{state_path}: unreadable training state ({e}); resume from a copy, "
                                      "or move it away to start a new run") from None
        elif args.resume:
            self.log_print(f"no {state_path} yet: starting a new run")
        # given on the command line: a resumed run takes them instead of its saved ones (e.g. to extend it)
        given = {k: getattr(args, k) for k in _RESUME_OVERRIDES if getattr(args, k) is not None}
        # a resumed run that kept its validations' weights keeps doing so (the flag is not in its saved config)
        self.keep_val_weights = bool(args.keep_val_weights) or (resume_state is not None and (self.out / VAL_DIR).is_dir())
        if resume_state is not None:
            saved = dataclass_from(TrainConfig, resume_state.get("train_config"), "train_config", state_path)
            self.cfg = dataclasses.replace(saved, **given)
        else:
            self.cfg = TrainConfig(
                batch_size=args.batch_size, lr=args.lr, warmup_steps=args.warmup_steps, val_every=args.val_every,
                val_size=args.val_size, seed=args.seed, augment=not args.no_augment,
                **given,
                freeze_stages=args.freeze_stages, label_style=args.label_style,
                train_last_blocks=args.train_last_blocks, freeze_bn=args.freeze_bn,
            )
        formulas, images = load_samples(args.data, "train", args.limit)
        rewrite = label_style(self.cfg.label_style)
        formulas = [rewrite(f) for f in formulas]
        keep = [i for i, f in enumerate(formulas) if len(f.split()) <= self.cfg.max_tokens]
        formulas, images = [formulas[i] for i in keep], [images[i] for i in keep]
        init_ckpt = load_checkpoint(args.init) if args.init else None
        self.init_provenance = (
            {"init_from": str(args.init), "init_provenance": init_ckpt.provenance,
             **({"init_head": args.init_head} if init_ckpt.has_wide_head or init_ckpt.has_tall_head else {})}
            if init_ckpt is not None
            else (resume_state or {}).get("init", {})  # a resumed run keeps the init it started from
        )
        if resume_state is not None:
            self.vocab = Vocab(tuple(resume_state["vocab"]))
            self.model_cfg = dataclass_from(ModelConfig, resume_state.get("model_config"), "model_config", state_path)
            self.pre = dataclass_from(PreprocessConfig, resume_state.get("preprocess"), "preprocess", state_path)
        elif init_ckpt is not None:
            self.vocab, self.model_cfg = init_ckpt.vocab, init_ckpt.model_config
            self.pre = config_with(init_ckpt.preprocess, args.preprocess)
        else:
            self.vocab = Vocab.build(formulas, self.cfg.min_count)
            self.model_cfg = with_overrides(ModelConfig(vocab_size=len(self.vocab)), args.model, "model",
                                            may_be_zero={"dropout"}, fixed={"vocab_size"})
            self.pre = config_with(PreprocessConfig(), args.preprocess)
        aug = AugmentConfig() if self.cfg.augment else NO_AUGMENT
        self.train_set = FormulaImages(formulas, images, self.vocab, self.pre, aug, self.cfg.seed)
        self.data_source = args.data
        try:
            vf, vi = load_samples(args.data, "val", self.cfg.val_size)
        except LatexSnipError:
            vf, vi = formulas[-self.cfg.val_size :], images[-self.cfg.val_size :]
            self.log_print("no val split: validating on the last training formulas")
        self.val_formulas = vf
        self.val_set = FormulaImages(vf, vi, self.vocab, self.pre, None)

        model = Im2Latex(self.model_cfg)
        if init_ckpt is not None:
            model = init_ckpt.build_model(args.init_head)
        self.model = model.to(self.device).to(memory_format=torch.channels_last)
        self.dtype = autocast_dtype(self.device)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed input geometry: pick the fastest kernels
            torch.backends.cuda.matmul.allow_tf32 = True
        self.frozen = frozen_modules(self.model, self.cfg.freeze_stages, self.cfg.train_last_blocks)
        if self.cfg.freeze_bn:
            self.frozen += batch_norms(self.model)
        for m in self.frozen:
            m.requires_grad_(False)
        trainable = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        decay = [p for n, p in trainable if p.ndim > 1]
        no_decay = [p for n, p in trainable if p.ndim <= 1]
        self.opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=self.cfg.lr, betas=(0.9, 0.98), fused=self.device.type == "cuda",
        )
        self.step, self.epoch, self.batch_pos, self.train_seconds, self.best_bleu = 0, 0, 0, 0.0, -1.0
        if resume_state is not None:
            self.model.load_state_dict(resume_state["model"])
            self.opt.load_state_dict(resume_state["optimizer"])
            self.step = int(resume_state["step"])
            self.epoch = int(resume_state["epoch"])
            self.batch_pos = int(resume_state["batch_pos"])
            self.train_seconds = float(resume_state["train_seconds"])
            self.best_bleu = float(resume_state["best_bleu"])
            torch.set_rng_state(resume_state["torch_rng"])
            self.log_print(f"resumed at step {self.step} (epoch {self.epoch}, batch {self.batch_pos})")
        self.ddp_model: torch.nn.Module = self.model
        if self.world > 1:
            self.ddp_model = torch.nn.parallel.DistributedDataParallel(self.model)

    # -- helpers ---------------------------------------------------------------------------
    def train_mode(self) -> None:
        """Training mode, except frozen stages: their batch-norm statistics stay as loaded."""
        self.model.train()
        for m in self.frozen:
            m.eval()

    def log_print(self, msg: str) -> None:
        if self.rank == 0:
            print(msg, file=sys.stderr, flush=True)

    def log_json(self, record: dict[str, Any]) -> None:
        if self.rank == 0:
            with open(self.out / LOG, "a") as fh:
                fh.write(json.dumps(record) + "\n")

    def progress(self) -> float:
        p = self.step / self.cfg.max_steps
        if self.cfg.max_minutes > 0:
            p = max(p, self.train_seconds / (self.cfg.max_minutes * 60.0))
        return p

    def save_state(self) -> None:
        if self.rank != 0:
            return
        state = {
            "model": clean_state_dict(self.model),
            "optimizer": self.opt.state_dict(),
            "step": self.step, "epoch": self.epoch, "batch_pos": self.batch_pos,
            "train_seconds": self.train_seconds, "best_bleu": self.best_bleu,
            "torch_rng": torch.get_rng_state(),
            "train_config": asdict(self.cfg), "model_config": self.model_cfg.to_dict(),
            "preprocess": self.pre.to_dict(), "vocab": list(self.vocab.tokens), "data": self.data_source,
            "init": self.init_provenance,
        }
        tmp = self.out / (STATE + ".tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.out / STATE)

    def checkpoint(self, metrics: dict[str, Any], dtype: torch.dtype | None = None) -> Checkpoint:
        return Checkpoint(
            self.model_cfg, self.vocab, self.pre, clean_state_dict(self.model, dtype),
            provenance=compact({"data": self.data_source, "steps": self.step,
                                "train_seconds": round(self.train_seconds), "device": str(self.device),
                                "world_size": self.world, "train_config": asdict(self.cfg),
                                "train_formulas": len(self.train_set), **self.init_provenance}),
            metrics=metrics,
        )

    def validate(self) -> dict[str, Any]:
        from training.metrics import corpus_bleu, edit_score, exact_match

        self.model.eval()
        hyps: list[list[str]] = []
        with torch.inference_mode(), autocast(self.device, self.dtype):
            for s in range(0, len(self.val_set), 64):
                items = [self.val_set[(0, i)] for i in range(s, min(s + 64, len(self.val_set)))]
                imgs, _ = collate(items)
                x = (imgs.to(self.device).float() / 255.0).contiguous(memory_format=torch.channels_last)
                feats, _ = self.model.encoder(x)
                hyps.extend(self.vocab.decode(d.ids) for d in greedy(self.model, feats))
        self.train_mode()
        refs = [f.split() for f in self.val_formulas]
        return {"val_bleu": corpus_bleu(refs, hyps), "val_edit": edit_score(refs, hyps),
                "val_exact": exact_match(refs, hyps), "val_n": len(refs)}

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        self.train_mode()
        if self._should_stop():  # a resumed run that had already reached its limit
            self.log_print(f"nothing to do: the run reached its limit at step {self.step} (give --max-steps or "
                           "--max-minutes with --resume to extend it)")
            return 0
        lengths = self.train_set.lengths()
        if self.pre.trim_multiple > 0:
            self.log_print(f"measuring the canvas sizes of {len(lengths)} training images (size buckets)...")
        sizes = self.train_set.canvas_sizes(self.cfg.workers)  # (N, 2) or None
        widths, heights = (None, None) if sizes is None else (sizes[:, 1], sizes[:, 0])
        last_ckpt = time.monotonic()
        last_print, seen_since, t_since = 0.0, 0, time.monotonic()
        n_batches = len(epoch_batches(lengths, self.cfg.batch_size, self.cfg.seed, 0, self.rank, self.world, widths, heights))
        if n_batches == 0:
            raise LatexSnipError(f"too few training formulas ({len(lengths)}) for batch size {self.cfg.batch_size}")
        loader = torch.utils.data.DataLoader(
            self.train_set, batch_sampler=_EpochSampler(self, lengths, widths, heights), collate_fn=collate,
            num_workers=self.cfg.workers, pin_memory=self.device.type == "cuda",
            prefetch_factor=4 if self.cfg.workers else None, worker_init_fn=_ignore_stop_signals,
        )
        t_prev = time.monotonic()
        for imgs, tokens in loader:
            lr = lr_at(self.step, self.progress(), self.cfg.lr, self.cfg.warmup_steps)
            for g in self.opt.param_groups:
                g["lr"] = lr
            x = (imgs.to(self.device, non_blocking=True).float() / 255.0).contiguous(memory_format=torch.channels_last)
            tokens = tokens.to(self.device, non_blocking=True)
            with autocast(self.device, self.dtype):
                logits, _ = self.ddp_model(x, tokens[:, :-1])  # (B, T-1, V)
            loss = sequence_loss(logits, tokens[:, 1:], PAD_ID, self.cfg.label_smoothing)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.clip)
            self.opt.step()
            self.step += 1
            self.batch_pos += 1
            if self.batch_pos >= n_batches:  # the loader's sampler runs ahead; count what was consumed
                self.epoch, self.batch_pos = self.epoch + 1, 0
            seen_since += imgs.shape[0] * self.world
            now = time.monotonic()
            self.train_seconds += now - t_prev
            t_prev = now
            if now - last_print > 10 or self.step == 1 or self.step % self.args.log_every == 0:
                rate = seen_since / max(now - t_since, 1e-6)
                loss_v = loss.item()
                left = (1.0 - self.progress()) * self.train_seconds / max(self.progress(), 1e-9)
                self.log_print(f"step {self.step} epoch {self.epoch} loss {loss_v:.3f} lr {lr:.2e} "
                               f"{rate:.0f} img/s ETA {left / 60:.1f} min")
                self.log_json({"step": self.step, "epoch": self.epoch, "loss": loss_v, "lr": lr, "img_s": rate,
                               "grad_norm": float(gnorm), "time": round(self.train_seconds, 1)})
                last_print, seen_since, t_since = now, 0, now
            if self.step % self.cfg.val_every == 0 and self.rank == 0:
                self._validate_and_keep_best()
                t_prev = time.monotonic()
            if now - last_ckpt > self.cfg.ckpt_minutes * 60:
                self.save_state()
                last_ckpt = now
            if self._should_stop():
                break
        self.save_state()
        if self.rank == 0 and not self.stop_requested and self.step % self.cfg.val_every:
            self._validate_and_keep_best()
        if self.stop_requested:
            self.log_print(f"stopped at step {self.step}; state saved to {self.out / STATE} (resume with --resume)")
        self._write_png()
        if self.world > 1:
            dist.barrier()  # rank 0 may still be validating: leave together, or gloo aborts the others
            dist.destroy_process_group()
        return 0

    def _should_stop(self) -> bool:
        stop = self.step >= self.cfg.max_steps or self.progress() >= 1.0 or self.stop_requested
        if self.world > 1:  # every rank must take the same decision, or the others hang
            flag = torch.tensor([float(stop)], device=self.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            stop = bool(flag.item())
        return stop

    def _validate_and_keep_best(self) -> None:
        m = self.validate()
        m["step"] = self.step
        self.log_json(m)
        self.log_print(f"validation at step {self.step}: BLEU {m['val_bleu']:.2f} edit {m['val_edit']:.3f} exact {m['val_exact']:.3f}")
        if m["val_bleu"] > self.best_bleu:
            self.best_bleu = m["val_bleu"]
            save_checkpoint(self.out / BEST, self.checkpoint(m))
        if self.keep_val_weights:
            save_checkpoint(self.out / VAL_DIR / f"step{self.step:06d}.safetensors", self.checkpoint(m, torch.float16))

    def _write_png(self) -> None:
        if self.rank != 0:
            return
        try:
            from training.plot import write_curves_png

            write_curves_png(self.out / LOG, self.out / "curves.png")
        except Exception as e:  # a plot must never lose a training run
            self.log_print(f"(no curves.png: {e})")

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stop_requested:  # second Ctrl-C: stop now, the last saved state stays
            raise KeyboardInterrupt
        self.stop_requested = True
        self.log_print("stop requested: finishing this step and saving state...")


class _EpochSampler:
    """Batches of every epoch in turn, starting at the trainer's (epoch, batch_pos): one
    DataLoader (and one set of worker processes) for the whole run."""

    def __init__(self, trainer: Trainer, lengths: np.ndarray, widths: np.ndarray | None,
                 heights: np.ndarray | None = None) -> None:
        self.t, self.lengths, self.widths, self.heights = trainer, lengths, widths, heights
        self.start_epoch, self.start_pos = trainer.epoch, trainer.batch_pos

    def __iter__(self) -> Iterator[list[tuple[int, ...]]]:
        epoch, pos = self.start_epoch, self.start_pos
        cfg = self.t.cfg
        while True:
            yield from epoch_batches(
                self.lengths, cfg.batch_size, cfg.seed, epoch, self.t.rank, self.t.world, self.widths, self.heights
            )[pos:]
            epoch, pos = epoch + 1, 0


def _ignore_stop_signals(worker_id: int) -> None:
    """DataLoader workers leave Ctrl-C / SIGTERM to the trainer: a terminal's Ctrl-C (or a kill of
    the process group) reaches them too, and a worker dying first made the trainer crash
    without saving its state. The trainer finishes its step, saves, and shuts them down."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def frozen_modules(model: Im2Latex, stages: int, train_last_blocks: int = 0) -> list[torch.nn.Module]:
    """The encoder's stem (conv1, bn1) and first ``stages`` ResNet stages ([] for 0), less the last
    ``train_last_blocks`` residual blocks of the body's last stage; ConfigError where that stage is not frozen."""
    if stages <= 0:
        frozen: list[torch.nn.Module] = []
    else:
        frozen = list(model.encoder.body)[: 4 + stages]  # conv1, bn1, relu, maxpool, layer1, layer2, ...
    if train_last_blocks < 0:
        raise ConfigError(f"--train-last-blocks {train_last_blocks}: a number of blocks, 0 or more")
    if train_last_blocks > 0:
        last = model.encoder.body[-1]
        if not frozen or frozen[-1] is not last:
            raise ConfigError(f"--train-last-blocks needs the body's last stage frozen (--freeze-stages "
                              f"{len(model.encoder.body) - 4})")
        blocks = list(last.children())
        if train_last_blocks > len(blocks):
            raise ConfigError(f"--train-last-blocks {train_last_blocks}: the last stage has {len(blocks)} blocks")
        frozen = frozen[:-1] + blocks[:-train_last_blocks]
    return frozen


def batch_norms(model: Im2Latex) -> list[torch.nn.Module]:
    """The body's batch norms (for --freeze-bn: kept in eval mode, their scale and shift fixed)."""
    return [m for m in model.encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        trainer = Trainer(args)
        if args.plot and trainer.rank == 0:
            import subprocess

            subprocess.Popen([sys.executable, "-m", "core.cli", "plot", str(Path(args.out) / LOG)])
        return trainer.run()
    except LatexSnipError as e:
        print(f"latexsnip train: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
