"""A costly widget (a pyqtgraph plot) is built only when asked for: after its place next
paints (the rest of the window paints first), or at once; never for a page not shown."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from ui.widgets.lazy_widget import LazyWidget


def test_built_after_its_place_has_painted_once_requested(qtbot: QtBot) -> None:
    made: list[QWidget] = []

    def build(parent: QWidget) -> QWidget:
        made.append(QLabel("plot", parent))
        return made[-1]

    window = QWidget()
    qtbot.addWidget(window)
    other = QLabel("table", window)
    lazy = LazyWidget(build, window)
    layout = QVBoxLayout(window)
    layout.addWidget(other)
    layout.addWidget(lazy, 1)  # room to paint: a place of no size never paints
    window.show()
    qtbot.waitExposed(window)
    assert not lazy.is_built() and made == []  # shown, but nothing asked for it yet
    lazy.request()
    assert made == []  # not before its place has painted
    with qtbot.waitSignal(lazy.built, timeout=5_000) as built:
        pass
    assert built.args == [made[0]] and lazy.content() is made[0]
    assert made[0].isVisible() and made[0].parent() is lazy


def test_built_at_once_when_asked_for_and_only_once(qtbot: QtBot) -> None:
    made: list[QWidget] = []
    lazy = LazyWidget(lambda parent: made.append(QLabel("plot", parent)) or made[-1])
    qtbot.addWidget(lazy)
    assert lazy.content() is made[0] and lazy.is_built()
    lazy.show()
    qtbot.waitExposed(lazy)
    assert lazy.content() is made[0] and len(made) == 1


def test_a_request_while_hidden_waits_for_the_page_to_show(qtbot: QtBot) -> None:
    made: list[QWidget] = []
    window = QWidget()
    qtbot.addWidget(window)
    lazy = LazyWidget(lambda parent: made.append(QLabel("plot", parent)) or made[-1], window)
    QVBoxLayout(window).addWidget(lazy, 1)
    window.resize(200, 100)  # room to paint: a place of no size never paints
    lazy.request()
    for _ in range(5):
        QApplication.processEvents()
    assert made == []  # a hidden page costs nothing
    with qtbot.waitSignal(lazy.built, timeout=5_000):
        window.show()
