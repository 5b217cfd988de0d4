"""The window's API server with "Keep API conversations as chats" (issue 14): off by default;
once ticked in the dialog, each chat request answered through the window's server shows up in
the chat list, titled from its first user message and marked as from the API. A real window and
engine (tiny model), the official `openai` client over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import openai
import pytest
from pytestqt.qtbot import QtBot

from storage.chats import ConversationRepository, MessageRepository
from storage.records import MessageStatus, Role
from tests.support.app_parts import MakeApp
from tests.support.window_api import Call, MemoryKeyring, client, presenter_of, use_keyring

HI = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}]


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    memory = MemoryKeyring()
    previous = use_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


def test_api_conversations_are_kept_as_chats_only_once_the_user_asks(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, database = make_app(
        tiny_model, n_ctx=1024, max_tokens=4, api_server_enabled=True, api_server_port=0
    )
    conversations = ConversationRepository(database)
    before = {c.id for c in conversations.list_recent()}
    presenter = presenter_of(window)
    dialog = presenter.dialog
    base_url = presenter.base_url
    assert base_url is not None
    window.api_server_action.trigger()
    assert dialog.keep_chats.isVisible() and not dialog.keep_chats.isChecked()  # off by default
    api = client(base_url)

    def ask() -> str:
        reply = api.chat.completions.create(model="x", messages=HI, max_tokens=4, seed=7)
        return reply.choices[0].message.content or ""

    Call(ask).wait(qtbot)
    qtbot.waitUntil(lambda: len(dialog.log_model.rows()) == 1)
    assert {c.id for c in conversations.list_recent()} == before

    dialog.keep_chats.click()  # applies at once, while the server runs
    assert controller.session.store.settings.api_server_keep_chats
    text = Call(ask).wait(qtbot)
    qtbot.waitUntil(lambda: len(conversations.list_recent()) == len(before) + 1)
    [kept] = [c for c in conversations.list_recent() if c.id not in before]
    assert kept.title == "API · hello there" and kept.system_prompt == "Be brief."
    path = MessageRepository(database).active_path(kept.id)
    assert [(m.role, m.content) for m in path] == [
        (Role.USER, "hello there"),
        (Role.ASSISTANT, text),
    ]
    assert path[-1].status == MessageStatus.COMPLETE and path[-1].stats is not None
    # The window's chat list shows it.
    qtbot.waitUntil(lambda: window.conversations.title_of(kept.id) == "API · hello there")

    # A wrong key's answer names where the window's key is set.
    presenter.stop()
    dialog.key.setText("s3cret")
    dialog.switch.click()
    keyed_url = presenter.base_url
    assert keyed_url is not None
    with pytest.raises(openai.AuthenticationError) as refused:
        Call(lambda: client(keyed_url, "wrong").models.list()).wait(qtbot)
    assert "API server dialog" in str(refused.value)
