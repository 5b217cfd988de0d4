"""The Servers tab's presenter (issue 14): adds, edits and removes connections to remote
OpenAI-compatible servers, tests them, and lists their models in the chat's model choice.

- A connection (name, address) is kept in the settings through the one SettingsStore; its API
  key only in the system keyring (app/models/connection_keys.py), one per address.
- Every network call (a server's /v1/models) and every keyring call runs off the GUI thread as
  a page task (page_tasks.py); errors come back as RemoteError's plain sentences.
- The servers' models go to the chat's picker (`show_remote`) whenever a listing answers:
  at start for each connection kept, and after each add or edit.
- A plain http:// address beyond this machine is warned about once per address and run.

GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from app.config.connections import (
    Connection,
    checked_connection,
    with_connection,
    without_connection,
)
from app.gui.models.page_tasks import PageTasks
from app.gui.settings_store import SettingsStore
from app.models.connection_keys import (
    KeyStoreError,
    delete_api_key,
    load_api_key,
    save_api_key,
)
from inference.backends.remote import RemoteEngine
from inference.backends.remote_probe import ServerModel
from inference.backends.remote_url import insecure_warning, parse_server_url
from inference.sync_client import EngineError
from ui.chat.model_picker import ModelPicker
from ui.models.connections import ConnectionRow, ConnectionsPanel

ASKING = "asking…"


def list_models(base_url: str, api_key: str | None) -> tuple[ServerModel, ...]:
    """The server's /v1/models (worker thread): the typed key, else the stored one."""
    key = api_key or load_api_key(base_url)
    with RemoteEngine(base_url, None, key) as engine:
        return engine.models()


def _count(models: tuple[str, ...] | None, error: str | None) -> str:
    if error is not None:
        return "not reachable"
    if models is None:
        return ASKING
    return f"{len(models)} model{'s' if len(models) != 1 else ''}"


class ConnectionsPresenter(QObject):
    """Signal: ``remoteModelsListed(list)``: (connection name, model id) of every model the
    servers offer, whenever that changes (the chat's picker is told directly; the Translate
    page's model choice follows this)."""

    remoteModelsListed = Signal(list)

    def __init__(
        self,
        panel: ConnectionsPanel,
        store: SettingsStore,
        picker: ModelPicker,
        tasks: PageTasks,
        *,
        lister: Callable[[str, str | None], tuple[ServerModel, ...]] = list_models,
        parent: QObject | None = None,
    ) -> None:
        """`lister`: how a server's models are asked for (worker thread)."""
        super().__init__(parent)
        self.panel = panel
        self.store = store
        self.picker = picker
        self._tasks = tasks
        self._lister = lister
        self._models: dict[str, tuple[str, ...]] = {}  # connection name -> model ids
        self._errors: dict[str, str] = {}
        self._keys: dict[str, bool] = {}  # base URL -> a key is stored
        self._warned: set[str] = set()  # server roots warned about (plain http)
        panel.saveRequested.connect(self.save)
        panel.removeRequested.connect(self.remove)
        panel.testRequested.connect(self.test)
        panel.connectionSelected.connect(self._on_selected)
        self._show()
        for connection in self.connections:
            self._list(connection)

    @property
    def connections(self) -> tuple[Connection, ...]:
        return self.store.settings.connections

    # ---- what the user does --------------------------------------------------------------

    def save(self, name: str, base_url: str, api_key: str, replacing: str) -> None:
        try:
            connection = checked_connection(
                name, base_url, self.connections, replacing=replacing or None
            )
        except ValueError as exc:
            self.panel.show_result(str(exc), error=True)
            return
        self._warn(connection.base_url)
        self.store.update(
            connections=with_connection(self.connections, connection, replacing or None)
        )
        if replacing and replacing != connection.name:
            self._forget(replacing)
        self._models.pop(connection.name, None)
        self._errors.pop(connection.name, None)
        self.panel.edit(connection.name, connection.base_url)
        self.panel.show_result(f"Kept {connection.name}. Asking it for its models…")
        self._show()
        if api_key.strip():

            def store_key() -> None:  # worker thread: the keyring may take a while
                save_api_key(connection.base_url, api_key)

            self._tasks.run(
                "save-key",
                store_key,
                lambda _none: self._key_stored(connection),
                lambda exc: self._key_failed(connection, exc),
            )
        else:
            self._list(connection)

    def remove(self, name: str) -> None:
        connection = next((c for c in self.connections if c.name == name), None)
        if connection is None:
            return
        rest = without_connection(self.connections, name)
        self.store.update(connections=rest)
        self._forget(name)
        self.panel.clear_form()
        self.panel.show_result(f"Removed {name}.")
        self._show()
        root = parse_server_url(connection.base_url).root
        if not any(parse_server_url(c.base_url).root == root for c in rest):
            # No other connection uses the address: its key goes too.
            self._tasks.run(
                "forget-key",
                lambda: delete_api_key(connection.base_url),
                lambda _gone: None,
                lambda _exc: None,
            )

    def test(self, base_url: str, api_key: str) -> None:
        """List the server's models without keeping anything."""
        try:
            parse_server_url(base_url)
        except ValueError as exc:
            self.panel.show_result(str(exc), error=True)
            return
        self._warn(base_url)
        self.panel.show_result(f"Asking {base_url.strip()} for its models…")
        self._tasks.run(
            "test",
            lambda: self._lister(base_url, api_key.strip() or None),
            lambda models: self.panel.show_result(_listing(models)),
            lambda exc: self.panel.show_result(_error_text(exc), error=True),
        )

    def _on_selected(self, name: str) -> None:
        connection = next((c for c in self.connections if c.name == name), None)
        if connection is not None:
            self.panel.edit(connection.name, connection.base_url)
            error = self._errors.get(name)
            models = self._models.get(name)
            if error is not None:
                self.panel.show_result(error, error=True)
            elif models is not None:
                self.panel.show_result(_listing_ids(models))

    # ---- what the servers say ----------------------------------------------------------------

    def _key_stored(self, connection: Connection) -> None:
        self._keys[connection.base_url] = True
        self._list(connection)

    def _key_failed(self, connection: Connection, exc: Exception) -> None:
        message = str(exc) if isinstance(exc, KeyStoreError) else f"The key was not kept: {exc}"
        self.panel.show_result(message, error=True)
        self._list(connection)

    def _list(self, connection: Connection) -> None:
        def work() -> tuple[tuple[ServerModel, ...], bool]:
            stored = load_api_key(connection.base_url) is not None
            return self._lister(connection.base_url, None), stored

        def listed(answer: tuple[tuple[ServerModel, ...], bool]) -> None:
            models, stored = answer
            if connection not in self.connections:
                return  # removed or changed meanwhile
            self._keys[connection.base_url] = stored
            self._models[connection.name] = tuple(m.id for m in models)
            self._errors.pop(connection.name, None)
            if self.panel.editing == connection.name:
                self.panel.show_result(_listing(models))
            self._show()

        def failed(exc: Exception) -> None:
            if connection not in self.connections:
                return
            self._errors[connection.name] = _error_text(exc)
            self._models.pop(connection.name, None)
            if self.panel.editing == connection.name:
                self.panel.show_result(self._errors[connection.name], error=True)
            self._show()

        self._tasks.run(f"list-{connection.name}", work, listed, failed)

    def _forget(self, name: str) -> None:
        self._models.pop(name, None)
        self._errors.pop(name, None)

    def _warn(self, base_url: str) -> None:
        address = parse_server_url(base_url)
        warning = insecure_warning(address)
        if warning is not None and address.root not in self._warned:
            self._warned.add(address.root)
            self.panel.show_warning(warning)

    def _show(self) -> None:
        rows = [
            ConnectionRow(
                c.name,
                c.base_url,
                self._keys.get(c.base_url, False),
                _count(self._models.get(c.name), self._errors.get(c.name)),
            )
            for c in self.connections
        ]
        self.panel.show_connections(rows)
        models = [
            (c.name, model) for c in self.connections for model in self._models.get(c.name, ())
        ]
        self.picker.show_remote(models)
        self.remoteModelsListed.emit(models)


def _listing(models: tuple[ServerModel, ...]) -> str:
    return _listing_ids(tuple(m.id for m in models))


def _listing_ids(ids: tuple[str, ...]) -> str:
    if not ids:
        return "The server answered but offers no models."
    return f"The server offers: {', '.join(ids)}. Choose one in the chat's model list."


def _error_text(exc: Exception) -> str:
    """RemoteError (an EngineError) and ValueError are already plain sentences."""
    if isinstance(exc, EngineError | ValueError):
        return str(exc)
    return f"The server could not be asked: {exc}"
