"""Waiting for a page's work the way the user sees it end, not on a signal the presenter would
emit only for tests (DESIGN.md §5): the page's Cancel button going back to disabled, a
document's row no longer saying "Reading…"."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QAbstractButton
from pytestqt.qtbot import QtBot

from ui.documents.page import DocumentsPage
from ui.documents.table_cells import COLUMNS

READING = "Reading…"  # a document row's Status while its file is read
STATUS = COLUMNS.index("Status")


class _CancelWatch(QObject):
    """Notes each change of a Cancel button's enabled state as it happens, so that work that
    starts and ends between two polls of a wait is still seen (like an armed waitSignal)."""

    def __init__(self, button: QAbstractButton) -> None:
        super().__init__()
        self.button = button
        self.started = button.isEnabled()  # work already running counts as started
        self.ended = False
        button.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.button and event.type() == QEvent.Type.EnabledChange:
            if self.button.isEnabled():
                self.started = True
            elif self.started:
                self.ended = True
        return False


@contextmanager
def work_ends(qtbot: QtBot, cancel: QAbstractButton, timeout: int) -> Iterator[None]:
    """Waits, after the body, until the work the body starts (or that already runs) is over:
    the page's `cancel` button was enabled and then disabled again. Armed before the body, so
    a job that ends at once, or one that starts only later (once a model is loaded), is
    waited for all the same."""
    watch = _CancelWatch(cancel)
    try:
        yield
        qtbot.waitUntil(lambda: watch.ended, timeout=timeout)
    finally:
        cancel.removeEventFilter(watch)


def row_status(page: DocumentsPage, path: Path | str) -> str | None:
    """The Status cell of `path`'s row, or None while it is not listed."""
    row = page.row_of(str(Path(path).resolve()))
    item = page.table.item(row, STATUS) if row >= 0 else None
    return item.text() if item is not None else None


def wait_read(
    qtbot: QtBot, page: DocumentsPage, paths: Sequence[Path | str], timeout: int = 60_000
) -> None:
    """Waits until each of `paths` is listed and its row no longer says "Reading…" (read, or
    failed to be). Call it right after what starts the reads: opening, a drop or a citation
    click lists the row as "Reading…" at once, so a row read before cannot pass for it."""
    qtbot.waitUntil(
        lambda: all(row_status(page, path) not in (None, READING) for path in paths),
        timeout=timeout,
    )


def summaries_end(
    qtbot: QtBot, page: DocumentsPage, timeout: int = 120_000
) -> AbstractContextManager[None]:
    """Waits, after the `with` body, until the summaries it queues (or the running ones it
    cancels, fails or lets go on) have all ended: Cancel is disabled again, and by then the
    rows, the progress bar's last words and the summary shown are written."""
    return work_ends(qtbot, page.cancel_button, timeout)
