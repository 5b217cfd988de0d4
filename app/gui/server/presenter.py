"""The window's API server (issue 14): switched on and off in the "API server" dialog (or at
launch when it was left on), served by the window's own engine through a WindowFront, shown in
the status bar while it runs, and stopped before the engine when the window closes.

GUI thread, except `served`, which the server's loop thread emits (queued to this object) for
each answered request: the dialog's log shows it. Nothing is stored as a chat unless the user
ticks "Keep API conversations as chats" (settings `api_server_keep_chats`): each chat request
and its reply are then handed to `keep_chat` (app/chat/api_chats.py stores them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.cli.serve import is_loopback
from app.config.api_server_key import ServerKeyError, load_server_key, save_server_key
from app.gui.server.log_rows import log_row
from app.gui.server.window_front import WindowFront
from app.gui.session import EngineSession
from app.gui.settings_store import SettingsStore
from app.server.request_log import ServedRequest
from inference.protocol import ChatMessage, Done
from storage.errors import DatabaseError
from ui.main_window import MainWindow
from ui.server.dialog import ApiServerDialog
from ui.server.settings_entry import ServerSettingsEntry

if TYPE_CHECKING:
    from app.server.runner import BackgroundServer

DEFAULT_PORT = 8080
KeepChat = Callable[[tuple[ChatMessage, ...], Done], None]


class ApiServerPresenter(QObject):
    served = Signal(object)  # ServedRequest, from the server's loop thread

    def __init__(
        self,
        dialog: ApiServerDialog,
        session: EngineSession,
        store: SettingsStore,
        *,
        show_error: Callable[[str], None],
        show_status: Callable[[str], None],
        keep_chat: KeepChat | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`show_error`: a plain message in the window (when the dialog is not open);
        `show_status`: the status bar's indicator ("" hides it); `keep_chat`: stores a chat
        request and its reply as a chat (raises DatabaseError), None: never offered."""
        super().__init__(parent)
        self.dialog = dialog
        self._session = session
        self._store = store
        self._show_error = show_error
        self._show_status = show_status
        self._keep_chat = keep_chat
        self._server: BackgroundServer[WindowFront] | None = None
        self._front: WindowFront | None = None
        self._stored_key: str | None = None
        self._key_read = False  # the keyring is asked only once the key is needed
        self.served.connect(self._on_served)
        dialog.switchClicked.connect(self._on_switch)
        dialog.keepChatsClicked.connect(lambda on: store.update(api_server_keep_chats=on))
        dialog.set_keep_chats(store.settings.api_server_keep_chats)
        dialog.keep_chats.setVisible(keep_chat is not None)

    @property
    def base_url(self) -> str | None:
        """What a client passes as its base URL (http://127.0.0.1:8080/v1), None while off."""
        return f"{self._server.url}/v1" if self._server is not None else None

    @property
    def front(self) -> WindowFront | None:
        return self._front

    def open(self) -> None:
        """Show the dialog, its fields filled from the settings while the server is off."""
        if self._server is None:
            self.dialog.set_fields(*self._configured())
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()

    def start_at_launch(self) -> None:
        """Start the server when it was left on; a failure is a plain message, not a stop."""
        if self._store.settings.api_server_enabled:
            self._start(*self._configured())

    def stop(self) -> None:
        """Stop serving: open streams end with an error at once, then the server stops."""
        front, server = self._front, self._server
        self._front = self._server = None
        if front is None or server is None:
            return
        front.close("Hearth's API server was switched off.")
        server.stop()
        front.deleteLater()
        self.dialog.set_running(None)
        self._show_status("")

    def shutdown(self) -> None:
        """The window closes (EngineSession.on_shutdown): before its engine stops."""
        self.stop()

    # ---- the switch ---------------------------------------------------------------------------

    def _on_switch(self, on: bool) -> None:
        if not on:
            self.stop()
            self._store.update(api_server_enabled=False)
            return
        host, port, key = self.dialog.fields()
        self._store.update(api_server_host=host, api_server_port=port)
        key_note = self._keep_key(key)
        started = self._start(host, port, key)
        # The setting follows the switch the user sees (back off after a failure).
        self._store.update(api_server_enabled=started)
        if started and key_note:
            self.dialog.show_message(key_note)

    def _configured(self) -> tuple[str, int, str]:
        settings = self._store.settings
        port = settings.api_server_port
        if not 0 <= port <= 65535:
            port = DEFAULT_PORT  # a hand-edited settings file
        return settings.api_server_host.strip() or "127.0.0.1", port, self._key() or ""

    def _key(self) -> str | None:
        if not self._key_read:
            self._stored_key = load_server_key()
            self._key_read = True
        return self._stored_key

    def _keep_key(self, key: str) -> str:
        """Keep a changed key in the keyring; returns a plain note when it could not be kept
        (it still applies until Hearth closes)."""
        if key == (self._key() or ""):
            return ""
        self._stored_key = key or None
        try:
            save_server_key(key)
        except ServerKeyError as exc:
            return f"{exc} The key applies until Hearth closes."
        return ""

    def _start(self, host: str, port: int, key: str) -> bool:
        self.dialog.hide_message()
        why = self._refusal(host, key)
        if why is None:
            front = WindowFront(self._session, parent=self)
            front.exchanged.connect(self._on_exchanged)
            why = self._serve(front, host, port, key)
        if why is not None:
            self.dialog.set_running(None)
            self.dialog.show_message(why)
            if not self.dialog.isVisible():
                self._show_error(why)
            return False
        assert self._server is not None
        self.dialog.set_fields(host, port, key)  # what it runs with, also when started at launch
        self.dialog.set_running(self.base_url)
        self._show_status(f"API: {self._server.url.removeprefix('http://')}")
        return True

    @staticmethod
    def _refusal(host: str, key: str) -> str | None:
        if not host:
            return "Give the address to listen on: 127.0.0.1 serves this machine only."
        if not is_loopback(host) and not key:
            return (
                f"Listening on {host} would let other machines use the model: give an API "
                f"key first, or listen on 127.0.0.1 (this machine only)."
            )
        return None

    def _serve(self, front: WindowFront, host: str, port: int, key: str) -> str | None:
        """Start the server over `front`; a plain message when it cannot."""
        # Imported on first use: Starlette and uvicorn cost ~85 ms that a window whose
        # server stays off should not pay at start-up.
        from app.server.app import ServerConfig
        from app.server.runner import BackgroundServer

        async def open_front() -> WindowFront:
            return front

        async def close_front(_front: WindowFront) -> None:
            return None

        config = ServerConfig(api_key=key or None, on_request=self.served.emit)
        try:
            server = BackgroundServer(open_front, close_front, config, host, port)
        except OSError as exc:
            front.deleteLater()
            reason = exc.strerror or str(exc)
            return (
                f"Hearth cannot listen on {host}:{port}: {reason}. Choose another port "
                f"(0 picks any free one) or stop the program that uses it."
            )
        try:
            server.start()
        except Exception as exc:  # uvicorn refused to start: say so, keep the window
            front.close("Hearth's API server could not start.")
            server.stop()
            front.deleteLater()
            return f"Hearth's API server could not start: {exc}"
        self._front, self._server = front, server
        return None

    def _on_exchanged(self, messages: tuple[ChatMessage, ...], done: Done) -> None:
        if self._keep_chat is None or not self._store.settings.api_server_keep_chats:
            return
        try:
            self._keep_chat(messages, done)
        except DatabaseError as exc:
            self._show_error(f"An API conversation could not be kept as a chat: {exc}")

    def _on_served(self, served: ServedRequest) -> None:
        from app.server.app import model_id

        info = self._session.info
        self.dialog.add_log_row(log_row(served, model_id(info) if info is not None else ""))


def install_api_server(
    window: MainWindow,
    session: EngineSession,
    store: SettingsStore,
    add_to_settings: Callable[[QWidget], None] | None = None,
    keep_chat: KeepChat | None = None,
) -> ApiServerPresenter:
    """The dialog behind the Chat menu's "API server…", its presenter, and the stop before
    the engine's when the window closes. `add_to_settings`: where the Settings dialog takes
    the server's line (its state and a button to this dialog)."""
    entry = ServerSettingsEntry()

    def show_status(text: str) -> None:
        window.set_api_status(text)
        entry.show_status(text)

    presenter = ApiServerPresenter(
        ApiServerDialog(window),
        session,
        store,
        show_error=window.show_error,
        show_status=show_status,
        keep_chat=keep_chat,
        parent=window,
    )
    entry.openRequested.connect(presenter.open)
    if add_to_settings is not None:
        add_to_settings(entry)
    else:
        entry.setParent(window)
        entry.hide()
    window.api_server_action.triggered.connect(presenter.open)
    session.on_shutdown(presenter.shutdown)
    return presenter
