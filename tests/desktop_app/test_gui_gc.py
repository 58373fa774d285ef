import gc
import threading

import pytest

from desktop_app.gui_gc import MainThreadCollector


class _Tracked:
    """Sits in a reference cycle; records which thread finally frees it."""

    freed_in: list[str] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _Tracked.freed_in.append(threading.current_thread().name)


_kept: list[list[list[int]]] = []


def _allocate_a_lot() -> None:
    _kept.append([[i] for i in range(200_000)])  # far past generation 0's threshold, kept alive


@pytest.fixture
def cycle_then_busy_worker():
    """A fresh garbage cycle made here, then a worker thread that allocates a lot."""

    def run() -> None:
        gc.collect()
        _Tracked.freed_in.clear()
        _Tracked()
        t = threading.Thread(target=_allocate_a_lot, name="busy-worker")
        t.start()
        t.join()

    yield run
    _kept.clear()


def test_without_it_a_busy_worker_thread_collects_gui_garbage(automatic_gc, cycle_then_busy_worker):
    """The hazard itself: CPython collects in whichever thread allocates."""
    cycle_then_busy_worker()
    assert _Tracked.freed_in == ["busy-worker"]


def test_with_it_garbage_is_collected_on_the_gui_thread(qtbot, cycle_then_busy_worker):
    collector = MainThreadCollector(interval_ms=20)
    try:
        assert not gc.isenabled()
        cycle_then_busy_worker()
        assert _Tracked.freed_in == []  # the worker did not collect
        qtbot.waitUntil(lambda: bool(_Tracked.freed_in), timeout=5000)  # the timer did
        assert _Tracked.freed_in == [threading.main_thread().name]
    finally:
        collector.stop()


def test_check_collects_only_when_due_and_stop_restores(automatic_gc):
    collector = MainThreadCollector(interval_ms=60_000)
    assert not gc.isenabled()
    gc.collect()
    assert collector.check() == 0  # nothing allocated since: nothing due
    for _ in range(collector.thresholds[0] + 10):
        _Tracked()
    assert collector.check() >= collector.thresholds[0]  # gen 0 was due and held the cycles
    collector.stop()
    assert gc.isenabled()
    collector.stop()  # idempotent
    assert gc.isenabled()
