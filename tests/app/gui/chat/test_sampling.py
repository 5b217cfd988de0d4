"""A chat's own sampling settings: set from the sidebar, sent with every reply, kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from app.chat.reply_sampling import chat_sampling
from inference.protocol import Sampling
from storage.chats import ConversationRepository
from tests.support.app_parts import AppParts
from tests.support.chat_window import type_and_send
from tests.support.engine_requests import generated, record_requests

MakeApp = Callable[..., AppParts]


def click(qtbot: QtBot, button: object) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # type: ignore[arg-type]


def test_a_chat_s_own_sampling_reaches_the_engine_and_survives_a_restart(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=6)
    sent = record_requests(controller, monkeypatch)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "hello there")
    cid = controller.current_conversation
    assert cid is not None
    [first] = generated(sent)
    assert first.sampling == Sampling() and first.max_tokens == 6  # the model's defaults

    window.conversations.build_context_menu(cid).actions()[2].trigger()  # Sampling…
    dialog = controller.sampling_editor.dialog
    assert dialog.isVisible()
    assert dialog.fields["temperature"].value() == pytest.approx(0.7)
    assert dialog.fields["seed"].text() == "Random"
    dialog.fields["temperature"].setValue(0.25)
    dialog.fields["top_k"].setValue(7)
    dialog.fields["seed"].setValue(42)
    dialog.fields["max_tokens"].setValue(3)
    click(qtbot, dialog.buttons.button(QDialogButtonBox.StandardButton.Ok))
    assert not dialog.isVisible()
    own = {"temperature": 0.25, "top_k": 7, "seed": 42, "max_tokens": 3}
    assert ConversationRepository(db).get(cid).sampling == own  # type: ignore[union-attr]

    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "again")
    second = list(generated(sent))[-1]
    assert second.sampling == Sampling(temperature=0.25, top_k=7, seed=42)
    assert second.max_tokens == 3
    # Other chats keep the model's defaults.
    controller.new_chat()
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "elsewhere")
    assert list(generated(sent))[-1].sampling == Sampling()

    controller.shutdown()
    db.close()
    window.close()
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=6)
    sent = record_requests(controller, monkeypatch)
    controller.open_conversation(cid)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "after the restart")
    third = list(generated(sent))[-1]
    assert third.sampling == second.sampling and third.max_tokens == 3

    # "Use model defaults" hands the chat back to the model's settings.
    window.conversations.build_context_menu(cid).actions()[2].trigger()
    dialog = controller.sampling_editor.dialog
    assert dialog.fields["top_k"].value() == 7
    click(qtbot, dialog.defaults_button)
    assert dialog.fields["top_k"].value() == 40
    click(qtbot, dialog.buttons.button(QDialogButtonBox.StandardButton.Ok))
    assert ConversationRepository(db).get(cid).sampling == {}  # type: ignore[union-attr]
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "defaults again")
    last = list(generated(sent))[-1]
    assert last.sampling == Sampling() and last.max_tokens == 6


def test_cancel_keeps_the_chat_s_sampling(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    cid = controller.current_conversation
    assert cid is not None
    ConversationRepository(db).set_sampling(cid, {"min_p": 0.2})
    window.conversations.build_context_menu(cid).actions()[2].trigger()
    dialog = controller.sampling_editor.dialog
    assert dialog.fields["min_p"].value() == pytest.approx(0.2)
    dialog.fields["min_p"].setValue(0.5)
    click(qtbot, dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel))
    assert ConversationRepository(db).get(cid).sampling == {"min_p": 0.2}  # type: ignore[union-attr]


def test_a_chat_can_ask_for_a_random_seed_when_the_model_fixes_one() -> None:
    base = Sampling(seed=5)
    assert chat_sampling(base, 100, {"seed": -1}) == (Sampling(seed=None), 100)
    assert chat_sampling(base, 100, {"top_p": 0.5, "max_tokens": 9}) == (
        Sampling(top_p=0.5, seed=5),
        9,
    )
