from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.support.themes import Themes


@pytest.fixture
def themes(qapp: QApplication, qtbot: QtBot) -> Iterator[Themes]:
    """The application's theme as the Settings dialog sets it; the desktop's again after."""
    switch = Themes(qapp, qtbot)
    yield switch
    switch.restore()
