import sqlite3

import pytest
from PySide6.QtGui import QGuiApplication

from desktop_app.history import HistoryStore, HistoryWindow, default_db_path, image_to_png
from tests.desktop_app.conftest import formula_image


def test_db_lives_in_overridden_data_dir(_isolated_data_dir):
    assert default_db_path().parent == _isolated_data_dir


def test_history_survives_restart(qapp):
    s = HistoryStore()
    a = s.add(r"\alpha", 0.9, 1, image_to_png(formula_image(100, 40)))
    s.add(r"\beta + 1", 0.4, 5)
    s.close()
    s2 = HistoryStore()
    entries = s2.search()
    assert [e.latex for e in entries] == [r"\beta + 1", r"\alpha"]
    assert s2.get(a).image_png.startswith(b"\x89PNG")
    s2.close()


def test_search_update_delete(qapp):
    s = HistoryStore()
    a = s.add(r"\alpha + 50%", 0.9)
    b = s.add(r"\gamma_1", 0.8)
    assert [e.id for e in s.search("alpha")] == [a]
    assert [e.id for e in s.search("50%")] == [a]  # % is literal
    assert [e.id for e in s.search("_")] == [b]  # _ is literal
    s.update_latex(b, r"\delta")
    assert s.get(b).latex == r"\delta"
    s.delete(a)
    assert s.get(a) is None
    s.close()


def test_failed_write_rolls_back(monkeypatch):
    s = HistoryStore()
    s.add("kept")
    with pytest.raises(sqlite3.Error), s._tx():
        s.conn.execute("INSERT INTO history(created, latex) VALUES (1, 'half')")
        s.conn.execute("INSERT INTO nonexistent VALUES (1)")
    assert [e.latex for e in s.search()] == ["kept"]
    s.close()


def test_history_window_lists_searches_copies_deletes(qtbot):
    s = HistoryStore()
    s.add(r"\frac { 1 } { 2 }", 0.95, 1, image_to_png(formula_image(120, 40)))
    s.add(r"e ^ { i \pi }", 0.5)
    w = HistoryWindow(s, copy_format="inline")
    qtbot.addWidget(w)
    w.show()
    assert w.table.rowCount() == 2
    assert w.status.text() == "2 entries"
    w.search_edit.setText("frac")
    assert w.table.rowCount() == 1
    assert w.status.text() == "1 entry matching \u201cfrac\u201d"
    w.table.selectRow(0)
    assert w.copy_selected() == r"$\frac { 1 } { 2 }$"
    assert QGuiApplication.clipboard().text() == r"$\frac { 1 } { 2 }$"
    w.delete_selected(confirm=False)
    assert w.table.rowCount() == 0
    assert w.status.text() == "0 entries matching \u201cfrac\u201d"
    w.search_edit.setText("")
    assert w.table.rowCount() == 1
    s.close()
