"""The API server dialog as a person sees it: the switch, the fields editable only while off,
the address to copy, and the request log (newest first, bounded)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from ui.server.dialog import ApiServerDialog
from ui.server.request_log import MAX_ROWS, LogRow


def _row(n: int, status: str = "200 OK", detail: str = "") -> LogRow:
    return LogRow(f"12:00:{n:02d}", "/v1/chat/completions", "m", "5", str(n), "9 ms", "50.0 tok/s",
                  status, detail)  # fmt: skip


def test_the_switch_reports_clicks_and_follows_the_presenter(qtbot: QtBot) -> None:
    dialog = ApiServerDialog()
    qtbot.addWidget(dialog)
    clicks: list[bool] = []
    dialog.switchClicked.connect(clicks.append)
    dialog.set_fields("127.0.0.1", 8080, "")
    assert dialog.address.text() == "Off" and not dialog.copy_button.isEnabled()

    dialog.switch.click()
    assert clicks == [True]
    dialog.set_running("http://127.0.0.1:8080/v1")
    assert dialog.switch.isChecked() and not dialog.host.isEnabled()
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == "http://127.0.0.1:8080/v1"

    dialog.set_running(None)  # e.g. back off after a failure: no click is reported
    assert not dialog.switch.isChecked() and dialog.host.isEnabled()
    assert clicks == [True]
    assert dialog.fields() == ("127.0.0.1", 8080, "")


def test_the_log_shows_the_newest_first_and_keeps_a_bounded_number(qtbot: QtBot) -> None:
    dialog = ApiServerDialog()
    qtbot.addWidget(dialog)
    model = dialog.log_model
    model.add(_row(1))
    model.add(_row(2, "503 Service Unavailable", "No model is loaded yet."))
    assert model.index(0, 4).data() == "2"
    status = model.index(0, model.columnCount() - 1)
    assert status.data() == "503 Service Unavailable"
    assert status.data(Qt.ItemDataRole.ToolTipRole) == "No model is loaded yet."
    for n in range(MAX_ROWS + 5):
        model.add(_row(n % 60))
    assert model.rowCount() == MAX_ROWS
