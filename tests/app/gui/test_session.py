"""The engine session, with the real engine process and tiny GGUFs: it alone loads, switches,
notices a crash and starts again, and a second session (the Translate page's own model) runs
beside the chat's without disturbing it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config.paths import HearthPaths, resolve_paths
from app.config.settings import Settings, load_settings
from app.gui.session import EngineSession
from app.gui.settings_store import SettingsStore
from app.models.default_model import default_model_path
from inference.protocol import EngineSettings, ErrorKind, KeptStates, ModelInfo
from tests.support.engine_helpers import kill_engine
from tests.support.tiny_gguf import build_corrupt_variants, build_tiny_model

LOAD_MS = 60_000


@pytest.fixture
def paths() -> HearthPaths:
    return resolve_paths().ensure()


@pytest.fixture
def store(paths: HearthPaths) -> SettingsStore:
    return SettingsStore(paths.settings_file, Settings(n_ctx=512))


@pytest.fixture
def sessions(store: SettingsStore, paths: HearthPaths) -> Iterator[list[EngineSession]]:
    """Sessions a test makes; each is shut down (its engine stopped) at the end."""
    made: list[EngineSession] = []
    yield made
    for session in made:
        session.shutdown()


def _session(
    sessions: list[EngineSession], store: SettingsStore, paths: HearthPaths, **kwargs: bool
) -> EngineSession:
    session = EngineSession(store, paths, **kwargs)
    sessions.append(session)
    return session


def _load(qtbot: QtBot, session: EngineSession, model: Path) -> ModelInfo:
    with qtbot.waitSignal(session.loaded, timeout=LOAD_MS) as loaded:
        session.load(str(model))
    info = loaded.args[0]
    assert isinstance(info, ModelInfo)
    return info


def test_a_load_announces_the_model_the_engine_loaded(
    qtbot: QtBot, tiny_model: Path, store: SettingsStore, paths: HearthPaths, sessions: list
) -> None:
    session = _session(sessions, store, paths)
    started: list[str] = []
    session.loadStarted.connect(started.append)
    with qtbot.waitSignal(session.loaded, timeout=LOAD_MS) as loaded:
        session.load(str(tiny_model))
        assert session.is_loading and session.info is None
    info = loaded.args[0]
    assert started == [str(tiny_model)]
    assert info.path == str(tiny_model) and info.n_ctx == 512  # the store's settings
    assert session.info is info and not session.is_loading
    assert session.client.pid is not None
    # A plain load is not the user's choice: nothing is remembered.
    assert load_settings(paths.settings_file).model_path is None


def test_a_switch_loads_the_other_model_and_remembers_it(
    qtbot: QtBot,
    tiny_model: Path,
    tmp_path: Path,
    store: SettingsStore,
    paths: HearthPaths,
    sessions: list,
) -> None:
    session = _session(sessions, store, paths)
    _load(qtbot, session, tiny_model)
    other = build_tiny_model(tmp_path / "other.gguf", seed=7)
    switching: list[str] = []
    session.switching.connect(switching.append)
    with qtbot.waitSignal(session.loaded, timeout=LOAD_MS) as loaded:
        session.switch(str(other))
    assert switching == [str(other)]
    assert loaded.args[0].path == str(other) and session.info is loaded.args[0]
    assert store.settings.model_path == str(other)
    assert load_settings(paths.settings_file).model_path == str(other)


def test_a_missing_file_fails_in_plain_words(
    qtbot: QtBot, tmp_path: Path, store: SettingsStore, paths: HearthPaths, sessions: list
) -> None:
    session = _session(sessions, store, paths)
    missing = tmp_path / "gone.gguf"
    with qtbot.waitSignal(session.loadFailed, timeout=LOAD_MS) as failed:
        session.load(str(missing))
    path, kind, message = failed.args
    assert path == str(missing) and kind == ErrorKind.MODEL_FILE
    assert message and "\n" not in message and "Traceback" not in message
    assert session.info is None and not session.is_loading


@pytest.mark.parametrize("variant", ["truncated", "not_gguf"])
def test_a_corrupt_file_fails_in_plain_words_and_a_good_one_loads_after(
    qtbot: QtBot,
    tiny_model: Path,
    tmp_path: Path,
    store: SettingsStore,
    paths: HearthPaths,
    sessions: list,
    variant: str,
) -> None:
    session = _session(sessions, store, paths)
    bad = build_corrupt_variants(tmp_path)[variant]
    with qtbot.waitSignal(session.loadFailed, timeout=LOAD_MS) as failed:
        session.load(str(bad))
    _path, kind, message = failed.args
    assert kind == ErrorKind.MODEL_FILE
    assert message and "\n" not in message and "Traceback" not in message
    assert session.info is None and not session.is_loading
    assert _load(qtbot, session, tiny_model).path == str(tiny_model)


def test_a_killed_engine_is_announced_and_the_next_load_starts_a_fresh_one(
    qtbot: QtBot, tiny_model: Path, store: SettingsStore, paths: HearthPaths, sessions: list
) -> None:
    session = _session(sessions, store, paths)
    _load(qtbot, session, tiny_model)
    pid = session.client.pid
    with qtbot.waitSignal(session.crashed, timeout=10_000) as crashed:
        kill_engine(session.client)
    assert crashed.args[0]  # the reason, in words
    assert session.info is None and not session.is_loading
    # As the chat's next message does: the last model again, on a fresh engine.
    with qtbot.waitSignal(session.loaded, timeout=LOAD_MS) as loaded:
        session.restart()
    assert loaded.args[0].path == str(tiny_model)
    assert session.client.pid not in (None, pid)


def _sent_kept_states(
    session: EngineSession, monkeypatch: pytest.MonkeyPatch
) -> list[KeptStates | None]:
    """What each load of `session` tells the engine about kept KV states, in order."""
    sent: list[KeptStates | None] = []
    load = session.client.load

    def spy(settings: EngineSettings, kept_states: KeptStates | None = None) -> int:
        sent.append(kept_states)
        return load(settings, kept_states)

    monkeypatch.setattr(session.client, "load", spy)
    return sent


def test_every_load_tells_the_engine_where_states_are_kept_and_how_much_they_may_take(
    qtbot: QtBot,
    tiny_model: Path,
    store: SettingsStore,
    paths: HearthPaths,
    sessions: list,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 13: the chat's session and the Translate page's alike; a budget changed in the
    settings goes with the next load."""
    chat = _session(sessions, store, paths)
    translation = _session(sessions, store, paths, remembers_choice=False)
    sent = _sent_kept_states(chat, monkeypatch)
    sent_by_translation = _sent_kept_states(translation, monkeypatch)
    folder = str(paths.kv_states_dir)
    speeds = str(paths.draft_speeds_file)  # drafting's measured speeds, kept likewise
    _load(qtbot, chat, tiny_model)
    store.update(kv_states_budget_bytes=1 << 30)
    _load(qtbot, chat, tiny_model)
    store.update(kv_states_budget_bytes=-1)  # a hand-edited file's nonsense: keep nothing
    _load(qtbot, translation, tiny_model)
    assert sent == [KeptStates(folder, 4 << 30, speeds), KeptStates(folder, 1 << 30, speeds)]
    assert sent_by_translation == [KeptStates(folder, 0, speeds)]


def test_a_budget_changed_reaches_the_running_engines_at_once(
    qtbot: QtBot, tiny_model: Path, store: SettingsStore, paths: HearthPaths, sessions: list
) -> None:
    """Issue 13: the Models page's budget (saved in the settings) goes to each running engine
    now, not with its next load; an engine not running is not started for it."""
    chat = _session(sessions, store, paths)
    translation = _session(sessions, store, paths, remembers_choice=False)
    _load(qtbot, chat, tiny_model)
    with qtbot.waitSignal(chat.local.stateBudgetSet, timeout=LOAD_MS) as applied:
        store.update(kv_states_budget_bytes=3 << 30)  # past a Qt int's 2 GiB
    assert applied.args[1:] == [3 << 30, 0]  # (budget, states removed)
    assert not translation.local.running
    with qtbot.assertNotEmitted(chat.local.stateBudgetSet, wait=200):
        store.update(max_tokens=77)  # another setting: nothing sent


def test_a_second_session_loads_its_own_model_while_the_first_stays_loaded(
    qtbot: QtBot,
    tiny_model: Path,
    tmp_path: Path,
    store: SettingsStore,
    paths: HearthPaths,
    sessions: list,
) -> None:
    chat = _session(sessions, store, paths)
    chat_info = _load(qtbot, chat, tiny_model)
    translation = _session(sessions, store, paths, remembers_choice=False)
    chat_events: list[object] = []
    for signal in (chat.loadStarted, chat.loaded, chat.loadFailed, chat.crashed):
        signal.connect(chat_events.append)
    other = build_tiny_model(tmp_path / "translate.gguf", seed=3)
    with qtbot.waitSignal(translation.loaded, timeout=LOAD_MS) as loaded:
        translation.switch(str(other))
    assert loaded.args[0].path == str(other)
    assert translation.client.pid not in (None, chat.client.pid)
    # The chat's session heard nothing and still has its model; nothing was remembered.
    assert chat_events == [] and chat.info is chat_info
    assert store.settings.model_path is None
    translation.shutdown()
    assert not translation.client.running and chat.client.running


def test_closing_while_the_builtin_model_is_assembled_stops_it_and_leaves_no_half_file(
    qtbot: QtBot, store: SettingsStore, paths: HearthPaths, sessions: list[EngineSession]
) -> None:
    """The first start copies and hashes 250 MB: closing Hearth meanwhile stops the copy at
    its next block instead of waiting for it, and removes the partial file."""
    session = _session(sessions, store, paths)
    fractions: list[object] = []
    session.preparing.connect(fractions.append)
    session.load_chosen()
    assert session.is_loading
    qtbot.waitUntil(lambda: any(isinstance(f, float) for f in fractions), timeout=LOAD_MS)

    session.shutdown()

    assert not session.is_loading
    target = default_model_path(paths.models_dir)
    assert not target.with_suffix(".partial").exists()
    assert not target.exists()
