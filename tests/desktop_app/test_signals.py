"""The Qt binding itself: what every signal the app emits relies on."""

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    ping = Signal()
    pair = Signal(str, str)


def test_emitting_signals_keeps_the_references_to_true_and_false():
    # PySide6 6.12.0 returned True from Signal.emit() without a reference of its own: each emit took one of
    # True's, and once they ran out (a few thousand emits: some hundred snips) Python aborted with
    # "bool_dealloc: deallocating True or False". pyproject.toml keeps 6.12 out. (From Python 3.12 on, True
    # is immortal and its count does not move either way.)
    e = _Emitter()
    e.pair.connect(lambda a, b: None)
    before = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(500):
        e.ping.emit()
        e.pair.emit("a", "b")
    assert (sys.getrefcount(True), sys.getrefcount(False)) == before
