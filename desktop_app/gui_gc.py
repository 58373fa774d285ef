"""Python's cycle collector, run on the GUI thread only.

CPython runs a cyclic collection in whichever thread happens to cross the allocation
threshold. In this app that is often a worker thread: the recogniser, or the mathtext preview
(pyparsing allocates a lot). A collection there may destroy GUI-thread Qt objects caught in a
reference cycle from the wrong thread, and Qt does not survive that: CI once died with
"Fatal Python error: Segmentation fault ... Garbage-collecting" inside pyparsing on the
preview thread. So while a ``MainThreadCollector`` is running, automatic collection is off and a
timer on the GUI thread runs the same generational collections at the same thresholds (the
pattern calibre and pyqtgraph use). ``stop`` restores what it found.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class MainThreadCollector(QObject):
    """Create on the GUI thread; collects there every ``interval_ms`` when garbage is due."""

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> int:
        """Collect the oldest generation whose allocation count is past its threshold (as
        CPython would); returns the number of unreachable objects found."""
        counts = gc.get_count()
        generation = -1
        for g in range(3):
            if counts[g] <= self.thresholds[g]:
                break
            generation = g
        return gc.collect(generation) if generation >= 0 else 0

    def stop(self) -> None:
        """Stop the timer, collect once here, and give collection back to CPython if it had it."""
        if not self._timer.isActive():
            return
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
