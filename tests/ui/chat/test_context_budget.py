"""The context line's warning follows a theme change (issue 15): its red was chosen for the
light theme (2.5:1 on the dark window)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.support.themes import Themes, reads_as_warning, shoot
from ui.chat.context_budget import BudgetReading, ContextBudgetLabel


def test_the_over_budget_warning_reads_in_either_theme(qtbot: QtBot, themes: Themes) -> None:
    themes.choose("light")
    label = ContextBudgetLabel()
    qtbot.addWidget(label)
    label.resize(600, 40)
    label.show()
    label.show_budget(BudgetReading(used=5000, size=4096, reply_room=512), refused=True)
    assert label.over_budget
    for theme in ("dark", "light"):
        themes.choose(theme, widget=label)
        qtbot.waitUntil(lambda: reads_as_warning(label))
        shoot(label, f"context-budget-{theme}")
    label.show_budget(BudgetReading(used=100, size=4096, reply_room=512))
    assert not reads_as_warning(label)
