"""What the `make_app` fixture (tests/app/conftest.py) hands a test: the real window, chat
controller and database."""

from __future__ import annotations

from collections.abc import Callable

from app.gui.chat.controller import ChatController
from storage.database import Database
from ui.main_window import MainWindow

AppParts = tuple[MainWindow, ChatController, Database]
MakeApp = Callable[..., AppParts]
