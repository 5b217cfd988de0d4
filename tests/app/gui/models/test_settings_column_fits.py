"""The Models page's per-model settings column shows its longest texts whole at the window's
default width (1100 px) and when it is wider (issue 15): the fit estimate and the flash
attention control were cut at the right edge, since the form was wider than the column and
the column scrolls only up and down. The real window with its pages, the tiny model
selected (so its fit estimate is shown)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QWidget
from pytestqt.qtbot import QtBot

from tests.support.app_parts import MakeApp
from tests.support.models_page import wait_page_tasks
from tests.support.remote_window import models_page
from ui.models.settings_form import ModelSettingsForm


def clipped(form: ModelSettingsForm) -> list[str]:
    """What the form shows cut off: a widget past the column's right edge, a wrapped text
    taller than its room, a button or list narrower than its text."""
    viewport = form.viewport()
    problems = []
    for widget in form.widget().findChildren(QWidget):
        if not widget.isVisibleTo(form) or widget.width() == 0:
            continue
        name = widget.accessibleName() or getattr(widget, "text", lambda: "")() or repr(widget)
        right = widget.mapTo(viewport, widget.rect().topRight()).x()
        if right >= viewport.width():
            problems.append(f"{name}: right edge {right} past {viewport.width()}")
        wrapped = isinstance(widget, QLabel) and widget.wordWrap() and bool(widget.text())
        if wrapped and widget.heightForWidth(widget.width()) > widget.height():
            problems.append(f"{name}: {widget.height()} px high, needs more")
        control = isinstance(widget, QAbstractButton | QComboBox)
        if control and widget.width() < widget.minimumSizeHint().width():
            problems.append(f"{name}: {widget.width()} px wide, needs more")
    return problems


@pytest.mark.parametrize("width", [1100, 1400])
def test_the_settings_column_shows_every_text_whole(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, width: int
) -> None:
    window, _controller, _db = make_app(tiny_model, pages=True)
    window.resize(width, 760)
    page = models_page(window)
    window.pages.setCurrentWidget(page)
    wait_page_tasks(qtbot)
    form = page.settings_form
    qtbot.waitUntil(lambda: form.fit_label.text() != "")
    assert len(form.fit_label.text()) > 50  # a long verdict, the one that was cut

    def whole() -> None:  # laid out after the resize: the next turns of the event loop
        assert clipped(form) == []

    qtbot.waitUntil(whole, timeout=2_000)
    # The longest text of all: why llama.cpp would refuse a quantized V cache.
    form.type_v_combo.setCurrentIndex(form.type_v_combo.findData("q4_0"))
    qtbot.waitUntil(form.cache_warning.isVisible)
    qtbot.waitUntil(whole, timeout=2_000)
