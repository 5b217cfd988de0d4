"""The Recommended tab's widget alone: rows, the one-click button per row, and how the buttons
wait while a download runs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ui.models.recommended import RecommendedPanel, RecommendedRow


def _row(key: str, state: str = "available", fit: str = "fits in RAM") -> RecommendedRow:
    return RecommendedRow(
        key=key,
        name=f"Model {key}",
        parameters="3B",
        size="2.0 GB",
        licence="Apache-2.0",
        licence_url="https://www.apache.org/licenses/LICENSE-2.0",
        fit=fit,
        fit_details=f"{fit}: ~2.6 GB of 12 GB free RAM",
        description="A <b>test</b> model.",
        repo_id="owner/repo",
        filename=f"{key}-Q4_K_M.gguf",
        state=state,
    )


def test_each_row_has_one_button_that_asks_for_its_model(qtbot: QtBot) -> None:
    panel = RecommendedPanel()
    qtbot.addWidget(panel)
    panel.show_rows([_row("a"), _row("b", state="installed"), _row("c", state="in use")])
    a, b, c = (panel.button(k) for k in "abc")
    assert a is not None and a.text() == "Download and use" and a.isEnabled()
    assert b is not None and b.text() == "Use" and b.isEnabled()
    assert c is not None and c.text() == "In use" and not c.isEnabled()
    with qtbot.waitSignal(panel.getRequested) as signal:
        qtbot.mouseClick(b, Qt.MouseButton.LeftButton)
    assert signal.args == ["b"]
    assert panel.fit_text("a") == "fits in RAM"
    # The description is text, never markup; the licence is a link.
    assert "&lt;b&gt;test&lt;/b&gt;" in panel.details.text()
    assert 'href="https://www.apache.org/licenses/LICENSE-2.0"' in panel.details.text()


def test_buttons_wait_while_a_download_runs_and_cancel_is_offered(qtbot: QtBot) -> None:
    panel = RecommendedPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_rows([_row("a"), _row("b")])
    assert panel.cancel_button.isHidden()
    panel.show_progress(0.5, "a: 1 GB of 2 GB", running=True)
    assert not panel.cancel_button.isHidden()
    assert not any(panel.button(k).isEnabled() for k in "ab")  # type: ignore[union-attr]
    panel.show_rows([_row("a"), _row("b")])  # a refresh while it runs keeps them waiting
    assert not any(panel.button(k).isEnabled() for k in "ab")  # type: ignore[union-attr]
    with qtbot.waitSignal(panel.cancelRequested):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    panel.show_progress(None, "a: cancelled", running=False)
    assert all(panel.button(k).isEnabled() for k in "ab")  # type: ignore[union-attr]
    assert panel.status_label.text() == "a: cancelled"
