"""Greedy and batched beam-search decoding: the ONE decoder used by eval, the CLI and the app."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from core.model import Im2Latex
from core.vocab import BOS_ID, EOS_ID


@dataclass
class Decoded:
    ids: list[int]  # output tokens, without <bos>/<eos>
    probs: list[float]  # probability of each output token
    score: float  # length-normalised log-probability (eos included)
    alphas: torch.Tensor  # (T, L) attention for each output token


def encode(model: Im2Latex, images: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
    return model.encoder(images)  # (B, L, D), (Hf, Wf)


@torch.inference_mode()
def greedy(model: Im2Latex, feats: torch.Tensor, max_len: int | None = None) -> list[Decoded]:
    """feats (B, L, D) -> one Decoded per row."""
    max_len = max_len or model.cfg.max_len
    dec = model.decoder
    b = feats.shape[0]
    state = dec.start(feats)
    tokens = torch.full((b,), BOS_ID, dtype=torch.long, device=feats.device)
    out_ids, out_lp, out_alpha = [], [], []
    done = torch.zeros(b, dtype=torch.bool, device=feats.device)
    for _ in range(max_len + 1):
        logits, state, alpha = dec.step(state, tokens)  # (B, V), (B, L)
        logp = torch.log_softmax(logits.float(), dim=1)  # (B, V)
        lp, tokens = logp.max(dim=1)  # (B,), (B,)
        out_ids.append(tokens)
        out_lp.append(lp)
        out_alpha.append(alpha.float())
        done |= tokens == EOS_ID
        if bool(done.all()):
            break
    ids = torch.stack(out_ids, 1).cpu()  # (B, T)
    lps = torch.stack(out_lp, 1).cpu()  # (B, T)
    alphas = torch.stack(out_alpha, 1).cpu()  # (B, T, L)
    results = []
    for i in range(b):
        row = ids[i].tolist()
        n = row.index(EOS_ID) if EOS_ID in row else len(row)
        total = float(lps[i, : n + 1].sum())
        results.append(
            Decoded(row[:n], lps[i, :n].exp().tolist(), total / (min(n + 1, len(row))), alphas[i, :n])
        )
    return results


@torch.inference_mode()
def forced(model: Im2Latex, feats: torch.Tensor, ids: list[int]) -> Decoded:
    """The model held to the output tokens ``ids`` on one image (feats (1, L, D)): their probabilities, score and
    attention, step by step as ``greedy`` computes its own (a reading the model did not choose, e.g. a spacing
    variant the render check kept)."""
    dec = model.decoder
    state = dec.start(feats)
    inputs, targets = [BOS_ID, *ids], [*ids, EOS_ID]
    lps, alphas = [], []
    for inp, tgt in zip(inputs, targets, strict=True):
        logits, state, alpha = dec.step(state, torch.tensor([inp], device=feats.device))  # (1, V), _, (1, L)
        lps.append(float(torch.log_softmax(logits.float(), dim=1)[0, tgt]))
        alphas.append(alpha.float()[0])
    n = len(ids)
    return Decoded(list(ids), [math.exp(lp) for lp in lps[:n]], sum(lps) / (n + 1), torch.stack(alphas)[:n].cpu())


def beam_search(
    model: Im2Latex, feats: torch.Tensor, beam: int = 5, max_len: int | None = None, alpha_len: float = 1.0
) -> list[Decoded]:
    """Batched beam search over all images at once: (B*K) rows, length-normalised scores
    (log p / len ** alpha_len). feats (B, L, D) -> best hypothesis per image."""
    if beam <= 1:
        return greedy(model, feats, max_len)
    return [hyps[0] for hyps in beam_search_nbest(model, feats, beam, max_len, alpha_len)]


@torch.inference_mode()
def beam_search_nbest(
    model: Im2Latex, feats: torch.Tensor, beam: int = 5, max_len: int | None = None, alpha_len: float = 1.0
) -> list[list[Decoded]]:
    """``beam_search``'s finished hypotheses, up to ``beam`` per image, best first. feats (B, L, D)."""
    beam = max(beam, 1)
    max_len = max_len or model.cfg.max_len
    dec = model.decoder
    b, length, _ = feats.shape
    k = beam
    dev = feats.device
    state = dec.start(feats.repeat_interleave(k, dim=0))  # rows (B*K)
    tokens = torch.full((b * k,), BOS_ID, dtype=torch.long, device=dev)
    scores = torch.full((b, k), float("-inf"), device=dev)
    scores[:, 0] = 0.0  # only the first beam is live at the start
    hist_ids = torch.empty((b * k, 0), dtype=torch.long, device=dev)
    hist_lp = torch.empty((b * k, 0), device=dev)
    hist_alpha = torch.empty((b * k, 0, length), device=dev)
    finished: list[list[tuple[float, list[int], list[float], torch.Tensor]]] = [[] for _ in range(b)]
    offsets = (torch.arange(b, device=dev) * k)[:, None]  # (B, 1)
    for t in range(max_len + 1):
        logits, state, alpha = dec.step(state, tokens)  # (B*K, V), (B*K, L)
        logp = torch.log_softmax(logits.float(), dim=1)  # (B*K, V)
        v = logp.shape[1]
        cand = (scores.view(-1, 1) + logp).view(b, k * v)  # (B, K*V)
        top_scores, top_idx = cand.topk(2 * k, dim=1)  # (B, 2K)
        src_beam, tok = top_idx // v, top_idx % v  # (B, 2K)
        rows = (offsets + src_beam).view(-1)  # (B*2K,)
        is_eos = (tok == EOS_ID) | (t == max_len)
        top_scores_c, tok_c, rows_c, is_eos_c = top_scores.cpu(), tok.cpu(), rows.view(b, 2 * k).cpu(), is_eos.cpu()
        keep_rows = torch.empty((b, k), dtype=torch.long)
        keep_tok = torch.full((b, k), EOS_ID, dtype=torch.long)
        keep_scores = torch.full((b, k), float("-inf"))
        n = hist_ids.shape[1]
        all_done = True
        for i in range(b):
            n_live = 0
            for j in range(2 * k):
                s = float(top_scores_c[i, j])
                if s == float("-inf") or n_live == k:
                    break
                r = int(rows_c[i, j])
                if bool(is_eos_c[i, j]):
                    if j < k:  # an ending only counts while it ranks among the k best candidates
                        hyp = (s / (n + 1) ** alpha_len, hist_ids[r].tolist(), hist_lp[r].tolist(), hist_alpha[r])
                        finished[i].append(hyp)
                        finished[i].sort(key=lambda h: -h[0])
                        del finished[i][k:]
                    continue
                keep_rows[i, n_live] = r
                keep_tok[i, n_live] = tok_c[i, j]
                keep_scores[i, n_live] = s
                n_live += 1
            for j in range(n_live, k):  # pad dead beams
                keep_rows[i, j] = int(offsets[i, 0])
            # done when k endings are kept and the best live beam, normalised now, cannot beat them
            if n_live and (len(finished[i]) < k or float(keep_scores[i, 0]) / (n + 2) ** alpha_len > finished[i][-1][0]):
                all_done = False
        if all_done:
            break
        idx = keep_rows.view(-1).to(dev)
        tokens = keep_tok.view(-1).to(dev)
        hist_ids = torch.cat([hist_ids.index_select(0, idx), tokens[:, None]], dim=1)
        step_lp = logp.index_select(0, idx).gather(1, tokens[:, None])  # (B*K, 1)
        hist_lp = torch.cat([hist_lp.index_select(0, idx), step_lp], dim=1)
        hist_alpha = torch.cat([hist_alpha.index_select(0, idx), alpha.float().index_select(0, idx)[:, None]], dim=1)
        state = state.select(idx)
        scores = keep_scores.to(dev)
    return [
        [Decoded(ids, [math.exp(x) for x in lps], norm_score, alphas.cpu()) for norm_score, ids, lps, alphas in hyps]
        for hyps in finished  # sorted best first as they were kept
    ]
