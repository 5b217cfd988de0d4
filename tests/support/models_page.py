"""Waits for the Models page's background work, each on what the page shows once that work
is done: the installed table listing (or no longer listing) a file, a fit verdict in the
settings form, a hub file's fit read from its header, the Hub panel's download ending."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.gui.models.views import HEADER_NOT_READ
from ui.models.hub_panel import HubPanel
from ui.models.page import ModelsPage
from ui.models.rows import InstalledRow
from ui.models.settings_form import ModelSettingsForm

DOWNLOAD_TIMEOUT_MS = 30_000


def listed_row(page: ModelsPage, path: Path) -> InstalledRow | None:
    """The installed table's row for `path` (compared resolved), if it has one."""
    return next((r for r in page.rows() if Path(r.path).resolve() == path.resolve()), None)


def is_listed(page: ModelsPage, path: Path) -> bool:
    return listed_row(page, path) is not None


def wait_listed(qtbot: QtBot, page: ModelsPage, *paths: Path, listed: bool = True) -> None:
    """Wait until the installed table lists every one of `paths` (or, `listed=False`, none of
    them). Start it only once the files are on disk (or gone): a listing made before that
    cannot show them, so the wait ends with a listing that saw the change."""
    qtbot.waitUntil(lambda: all(is_listed(page, path) == listed for path in paths))


def wait_row(
    qtbot: QtBot, page: ModelsPage, path: Path, shown: Callable[[InstalledRow], bool]
) -> InstalledRow:
    """Wait until the installed table's row for `path` is as `shown` wants it; that row. For
    a model that is always listed (the built-in one, unpacked or not), whose row changes."""

    def ready() -> bool:
        row = listed_row(page, path)
        return row is not None and shown(row)

    qtbot.waitUntil(ready)
    row = listed_row(page, path)
    assert row is not None
    return row


def wait_page_tasks(qtbot: QtBot) -> None:
    """Wait until the Models page's worker threads (all named "models-…") have ended and
    their results are shown. For a listing that changes nothing on screen: there is nothing
    else to wait on. A thread hands its result to the GUI thread before it ends, so the
    events processed afterwards include it."""
    qtbot.waitUntil(
        lambda: not any(t.name.startswith("models-") for t in threading.enumerate()),
        timeout=DOWNLOAD_TIMEOUT_MS,
    )
    QApplication.processEvents()


def wait_fit(qtbot: QtBot, form: ModelSettingsForm, previous: str = "") -> str:
    """Wait until the settings form shows a fit verdict other than `previous`; the verdict.
    Selecting a model clears the verdict first, so after a click on a row `previous` is ""
    (the default); after a change of a value it is the verdict shown before the change."""
    qtbot.waitUntil(lambda: form.fit_label.text() not in ("", previous))
    return form.fit_label.text()


def _fit_details(panel: HubPanel, key: str) -> str:
    """The details of hub file `key`'s fit, as its fit cell's tooltip shows them."""
    for row in range(panel.file_table.rowCount()):
        hint = panel.file_table.item(row, 0).toolTip()  # its key, and what a partial kept
        if hint == key or hint.startswith(f"{key}: "):
            return panel.file_table.item(row, 3).toolTip()
    return ""


def header_read(panel: HubPanel, key: str) -> bool:
    """Whether hub file `key`'s fit comes from its header, or says why it could not be read;
    not while it is estimated from its size only (not asked for yet, or being read)."""
    details = _fit_details(panel, key)
    return details.startswith(f"{Path(key).name} at ") or HEADER_NOT_READ in details


def wait_header_read(qtbot: QtBot, panel: HubPanel, key: str) -> None:
    """Wait until hub file `key`'s fit was read from its header (or it could not be)."""
    qtbot.waitUntil(lambda: header_read(panel, key))


def wait_download_ended(qtbot: QtBot, panel: HubPanel) -> str:
    """Wait until the download started by the last click ends (installed, paused, cancelled
    or failed: Pause is offered only while one runs, and the click shows it at once); what
    the panel says then."""
    qtbot.waitUntil(panel.pause_button.isHidden, timeout=DOWNLOAD_TIMEOUT_MS)
    return panel.progress_label.text()
