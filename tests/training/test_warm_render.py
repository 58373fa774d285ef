"""training.warm_render: pdflatex and ghostscript started ahead of need give the cold run's images, and never outlive
their owner (needs TeX Live)."""

from __future__ import annotations

import os
import shutil
import time

import numpy as np
import pytest

from training import render
from training.warm_render import WarmPool

pytestmark = [
    pytest.mark.tex,
    pytest.mark.skipif(shutil.which("pdflatex") is None or shutil.which("gs") is None or not hasattr(os, "mkfifo"),
                       reason="needs pdflatex, ghostscript and FIFOs"),
]

FORMULAS = [
    "x ^ { 2 } + y ^ { 2 } = z ^ { 2 }",
    "\\frac { a } { b }",
    "\\undefinedcommandxyz x",  # TeX error: the batch is repaired
    "\\frac { a",  # refused before TeX
    "\\sum _ { n = 1 } ^ { N } n = \\frac { N ( N + 1 ) } { 2 }",
]


def _same(a: list[np.ndarray | None], b: list[np.ndarray | None]) -> bool:
    return len(a) == len(b) and all(
        (x is None and y is None) or (x is not None and y is not None and np.array_equal(x, y))
        for x, y in zip(a, b, strict=True)
    )


@pytest.fixture
def pool():
    p = WarmPool(render.CHECK_DPI, render.CHECK_ALPHA_BITS, spares=2)
    p.start()
    yield p
    p.close()


def _gone(proc, seconds: float = 30.0) -> bool:  # generous: a busy machine starts programs slowly
    deadline = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return proc.poll() is not None


def _waiting(pool: WarmPool, n: int, seconds: float = 5.0) -> bool:
    """Whether ``n`` started programs wait in ``pool`` within ``seconds`` (they start in a timer thread)."""
    deadline = time.monotonic() + seconds
    while len(pool.processes()) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(pool.processes()) == n


def test_warm_renderings_are_the_cold_ones(pool: WarmPool) -> None:
    cold = render.formula_renderer(workers=1)
    warm = render.formula_renderer(workers=1, warm=pool)
    expected = cold(FORMULAS)
    assert expected[0] is not None and expected[2] is None and expected[3] is None
    assert len(pool.processes()) == 4  # two spares, each a pdflatex and a ghostscript
    for _ in range(2):  # the spares, then the ones started after them
        assert _same(warm(FORMULAS), expected)
    # another resolution: a ghostscript of its own, the same pdflatex
    assert _same(warm(FORMULAS[:2], scale=1.5), cold(FORMULAS[:2], scale=1.5))
    assert _waiting(pool, 4)  # the spares are started again once the runs are over


def test_programs_that_died_while_waiting_are_replaced_by_cold_runs(pool: WarmPool) -> None:
    for proc in pool.processes():
        proc.kill()
        proc.wait()
    expected = render.formula_renderer(workers=1)(FORMULAS[:2])
    assert _same(render.formula_renderer(workers=1, warm=pool)(FORMULAS[:2]), expected)


def test_a_waiting_pdflatex_ends_when_its_owner_lets_go() -> None:
    """What happens when the owning process dies: its FIFO descriptor closes, and pdflatex reads an end of file
    instead of waiting for ever."""
    pool = WarmPool(render.CHECK_DPI, render.CHECK_ALPHA_BITS)
    try:
        warm = pool.take()
        assert warm is not None
        time.sleep(0.3)
        assert warm.tex.poll() is None and warm.gs is not None and warm.gs.poll() is None
        os.close(warm.fifo)
        warm.fifo = -1
        assert warm.gs.stdin is not None
        warm.gs.stdin.close()
        assert _gone(warm.tex) and _gone(warm.gs)
        warm.close()
    finally:
        pool.close()


def test_closing_a_pool_stops_its_programs_and_removes_its_files(pool: WarmPool) -> None:
    procs = list(pool.processes())
    assert procs and os.path.isdir(pool.root)
    pool.close()
    assert all(p.poll() is not None for p in procs) and not os.path.exists(pool.root)
    assert pool.take() is None
    expected = render.formula_renderer(workers=1)(FORMULAS[:1])
    assert _same(render.formula_renderer(workers=1, warm=pool)(FORMULAS[:1]), expected)  # cold from then on


def test_programs_that_cannot_start_leave_rendering_cold(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = WarmPool(render.CHECK_DPI, render.CHECK_ALPHA_BITS)
    try:
        for spawn in ("_spawn_tex", "_spawn_gs"):
            monkeypatch.setattr(pool, spawn, lambda: (_ for _ in ()).throw(OSError("no memory")))
        pool.start()
        assert pool.take() is None and not pool.available
        assert render.formula_renderer(workers=1, warm=pool)(FORMULAS[:1])[0] is not None
    finally:
        pool.close()


def test_a_run_at_another_resolution_leaves_the_pools_ghostscript_for_the_next() -> None:
    """A rendering at another scale starts its own ghostscript (its resolution is fixed when it starts): it takes a
    started pdflatex alone, and the started ghostscript waits for the next run at the pool's resolution."""
    pool = WarmPool(render.CHECK_DPI, render.CHECK_ALPHA_BITS, spares=1, tex_spares=2)
    try:
        pool.start()
        assert len(pool.processes()) == 3  # two pdflatex, one ghostscript
        other = pool.take(render.CHECK_DPI * 2, render.CHECK_ALPHA_BITS)
        assert other is not None and other.gs is None and len(pool.processes()) == 2
        same = pool.take(render.CHECK_DPI, render.CHECK_ALPHA_BITS)
        assert same is not None and same.gs is not None and pool.processes() == []
        for warm in (other, same):
            warm.close()
    finally:
        pool.close()


def test_a_renderer_told_the_check_is_done_starts_the_next_programs_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "REFILL_DELAY", 60.0)  # the fallback start, after a burst of runs, never comes here
    pool = WarmPool(render.CHECK_DPI, render.CHECK_ALPHA_BITS)
    try:
        pool.start()
        renderer = render.formula_renderer(workers=1, warm=pool)
        assert renderer(FORMULAS[:1])[0] is not None and pool.processes() == []
        renderer.finished()  # type: ignore[attr-defined]
        assert _waiting(pool, 2)
    finally:
        pool.close()


def test_the_render_check_renderers_share_one_pool_with_a_spare_per_font() -> None:
    from training.warm_render import shared_pool

    renderers = render.check_renderers(["cm", "times"], workers=1)
    pool = shared_pool(render.CHECK_DPI, render.CHECK_ALPHA_BITS)
    assert pool.spares >= 2 and pool.tex_spares > pool.spares and len(pool.processes()) >= 2 * pool.spares + 1
    assert renderers[1](["x ^ { 2 }"])[0] is not None


def test_a_delayed_start_waits_until_the_burst_of_runs_is_over() -> None:
    pool = WarmPool(render.CHECK_DPI, render.CHECK_ALPHA_BITS)
    try:
        pool.start(delay=0.4)
        time.sleep(0.2)
        pool.start(delay=0.4)  # another run ended: the start moves on
        time.sleep(0.3)
        assert pool.processes() == []
        assert _waiting(pool, 2)
    finally:
        pool.close()


def test_folders_of_pools_whose_process_died_are_removed(tmp_path) -> None:
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale, mine = tmp_path / f"latexsnip_warm_{gone.pid}_abc", tmp_path / f"latexsnip_warm_{os.getpid()}_def"
    for folder in (stale, mine):
        (folder / "lsr_x").mkdir(parents=True)
    pool = WarmPool(render.CHECK_DPI, render.CHECK_ALPHA_BITS, tmpdir=str(tmp_path))
    try:
        assert not stale.exists() and mine.exists() and os.path.isdir(pool.root)
        assert os.path.basename(pool.root).startswith(f"latexsnip_warm_{os.getpid()}_")
    finally:
        pool.close()
