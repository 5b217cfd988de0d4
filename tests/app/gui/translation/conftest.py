from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.gui.translation.controller import TranslationController, install_translation
from tests.support.app_parts import AppParts, MakeApp


@pytest.fixture
def translate_app(make_app: MakeApp, tiny_model: Path) -> Iterator[tuple[AppParts, Any]]:
    """The app with the Translate page installed; shut down at the end of the test."""
    controllers: list[TranslationController] = []

    def build(**settings: object) -> tuple[AppParts, TranslationController]:
        settings.setdefault("n_ctx", 1024)
        parts = make_app(tiny_model, **settings)
        window, chat, database = parts
        controller = install_translation(window, chat.session, chat.store, chat.paths, database)
        controllers.append(controller)
        window.show_page(controller.panel)
        return parts, controller

    yield build  # type: ignore[misc]
    for controller in controllers:
        controller.shutdown()
