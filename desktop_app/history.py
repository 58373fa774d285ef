"""Recognition history: SQLite in the user data dir, and the History window."""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.formats import FormatError, format_latex
from desktop_app.paths import data_dir

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    latex TEXT NOT NULL,
    confidence REAL,
    beam INTEGER,
    image BLOB
);
CREATE INDEX IF NOT EXISTS history_created ON history(created);
"""


@dataclass(frozen=True)
class Entry:
    id: int
    created: float
    latex: str
    confidence: float | None
    beam: int | None
    image_png: bytes | None


def default_db_path() -> Path:
    d = data_dir()
    assert d is not None
    return d / "history.sqlite3"


def image_to_png(img: QImage, max_side: int = 600) -> bytes:
    if img.width() > max_side or img.height() > max_side:
        img = img.scaled(
            max_side,
            max_side,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    ba = QByteArray()
    buf = QBuffer(ba)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")  # type: ignore[call-overload]  # stubs want bytes, runtime wants str
    buf.close()
    return bytes(ba.data())


class HistoryStore:
    """Small transactional store. Every write runs in one transaction (all or nothing)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), timeout=5.0, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        with self._tx():
            for stmt in SCHEMA.split(";"):
                if stmt.strip():
                    self.conn.execute(stmt)

    def _tx(self) -> _Tx:
        return _Tx(self.conn)

    def add(
        self,
        latex: str,
        confidence: float | None = None,
        beam: int | None = None,
        image_png: bytes | None = None,
    ) -> int:
        with self._tx():
            cur = self.conn.execute(
                "INSERT INTO history(created, latex, confidence, beam, image) VALUES (?, ?, ?, ?, ?)",
                (time.time(), latex, confidence, beam, image_png),
            )
        return int(cur.lastrowid or 0)

    def update_latex(self, entry_id: int, latex: str) -> None:
        with self._tx():
            self.conn.execute("UPDATE history SET latex = ? WHERE id = ?", (latex, entry_id))

    def delete(self, entry_id: int) -> None:
        with self._tx():
            self.conn.execute("DELETE FROM history WHERE id = ?", (entry_id,))

    def clear(self) -> None:
        with self._tx():
            self.conn.execute("DELETE FROM history")

    def get(self, entry_id: int) -> Entry | None:
        row = self.conn.execute(
            "SELECT id, created, latex, confidence, beam, image FROM history WHERE id = ?",
            (entry_id,),
        ).fetchone()
        return Entry(*row) if row else None

    def search(self, text: str = "", limit: int = 500) -> list[Entry]:
        q = "SELECT id, created, latex, confidence, beam, image FROM history"
        args: tuple[object, ...] = ()
        if text.strip():
            q += " WHERE latex LIKE ? ESCAPE '!'"
            esc = text.strip().replace("!", "!!").replace("%", "!%").replace("_", "!_")
            args = (f"%{esc}%",)
        q += " ORDER BY created DESC, id DESC LIMIT ?"
        return [Entry(*r) for r in self.conn.execute(q, (*args, limit)).fetchall()]

    def close(self) -> None:
        self.conn.close()


class _Tx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> _Tx:
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


class HistoryWindow(QWidget):
    """Lists past results; search, re-copy (in the chosen format), delete."""

    copied = Signal(str)

    def __init__(
        self, store: HistoryStore, copy_format: str = "raw", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.copy_format = copy_format
        self.setWindowTitle("LaTeXSnip – history")
        self.setObjectName("historyWindow")
        self.resize(780, 460)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search LaTeX ...")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self.refresh)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["When", "Snip", "LaTeX", "Conf."])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(1, 180)
        self.table.doubleClicked.connect(lambda _i: self.copy_selected())
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self.copy_selected)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_selected)
        self.status = QLabel("")
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.copy_button)
        row.addWidget(self.delete_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.search_edit)
        lay.addWidget(self.table, 1)
        lay.addLayout(row)
        self.entries: list[Entry] = []
        self.refresh()

    def refresh(self) -> None:
        try:
            self.entries = self.store.search(self.search_edit.text())
        except sqlite3.Error as exc:
            self.status.setText(f"Cannot read history: {exc}")
            return
        self.table.setRowCount(len(self.entries))
        for r, e in enumerate(self.entries):
            when = QTableWidgetItem(time.strftime("%Y-%m-%d %H:%M", time.localtime(e.created)))
            when.setData(Qt.ItemDataRole.UserRole, e.id)
            self.table.setItem(r, 0, when)
            snip = QTableWidgetItem()
            if e.image_png:
                pm = QPixmap()
                pm.loadFromData(e.image_png, "PNG")
                if not pm.isNull():
                    snip.setData(
                        Qt.ItemDataRole.DecorationRole,
                        pm.scaled(
                            170,
                            40,
                            Qt.AspectRatioMode.KeepAspectRatio,
                            Qt.TransformationMode.SmoothTransformation,
                        ),
                    )
            self.table.setItem(r, 1, snip)
            self.table.setItem(r, 2, QTableWidgetItem(e.latex))
            self.table.setItem(
                r, 3, QTableWidgetItem("" if e.confidence is None else f"{e.confidence:.0%}")
            )
            self.table.setRowHeight(r, 44)
        n, query = len(self.entries), self.search_edit.text().strip()
        self.status.setText(f"{n} {'entry' if n == 1 else 'entries'}" + (f" matching \u201c{query}\u201d" if query else ""))

    def selected_entry(self) -> Entry | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        r = rows[0].row()
        return self.entries[r] if 0 <= r < len(self.entries) else None

    def copy_selected(self) -> str | None:
        e = self.selected_entry()
        if e is None:
            self.status.setText("Select an entry first.")
            return None
        try:
            text = format_latex(e.latex, self.copy_format)
        except FormatError as exc:
            self.status.setText(str(exc))
            return None
        from desktop_app.result_window import copy_text

        copy_text(text)
        self.status.setText("Copied.")
        self.copied.emit(text)
        return text

    def delete_selected(self, confirm: bool = True) -> None:
        e = self.selected_entry()
        if e is None:
            self.status.setText("Select an entry first.")
            return
        if confirm:
            ans = QMessageBox.question(self, "Delete entry", "Delete this history entry?")
            if ans != QMessageBox.StandardButton.Yes:
                return
        try:
            self.store.delete(e.id)
        except sqlite3.Error as exc:
            self.status.setText(f"Cannot delete: {exc}")
            return
        self.refresh()

    def showEvent(self, e: object) -> None:  # always fresh when opened
        self.refresh()
        super().showEvent(e)  # type: ignore[arg-type]
