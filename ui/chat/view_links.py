"""What the transcript's links do: open web links outside, and the app's own ``hearth:``
links (Copy, Regenerate, Timing, Edit, ‹ older / newer ›). A mixin of ChatView (ui.chat.view),
which holds the state and the signals these methods use.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication

OPENABLE_SCHEMES = ("http", "https", "mailto")
# How long "Copied ✓" stands in place of a message's Copy link: long enough to be seen, short
# enough that the link is back for the next copy.
COPIED_FEEDBACK_MS = 1500


class TranscriptLinks:
    """ChatView's link handling (methods only; the state lives in ChatView)."""

    def _on_anchor_clicked(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme == "hearth":
            self._on_hearth_link(url)
        elif scheme in OPENABLE_SCHEMES:
            QDesktopServices.openUrl(url)

    def _on_hearth_link(self, url: QUrl) -> None:
        action = url.host()
        try:
            message_id = int(url.path().strip("/"))
        except ValueError:
            return
        if action == "copy":
            text = self._raw_text(message_id)
            if text is not None:
                QGuiApplication.clipboard().setText(text)
                self._show_copied(message_id)
        elif action == "regenerate":
            self.regenerateRequested.emit(message_id)
        elif action == "timing":
            self.timingRequested.emit(message_id)
        elif action == "edit":
            self.editRequested.emit(message_id)
        elif action in ("older", "newer"):
            self.versionRequested.emit(message_id, 1 if action == "newer" else -1)

    def _show_copied(self, message_id: int | None) -> None:
        """ "Copied ✓" under `message_id` for a moment (None: the Copy link back)."""
        previous, self._copied_id = self._copied_id, message_id
        for shown in {previous, message_id} - {None}:
            frame = self._frames.get(shown) if shown is not None else None
            message = self._messages.get(shown) if shown is not None else None
            if frame is not None and message is not None and shown != self._reply_id:
                self._replace_frame_content(
                    frame, message, show_regenerate=shown == self._last_assistant_id
                )
        if message_id is None:
            self._copied_timer.stop()
        else:
            self._copied_timer.start()

    def _raw_text(self, message_id: int) -> str | None:
        if message_id == self._reply_id:
            return self.reply_text()
        message = self._messages.get(message_id)
        return message.content if message is not None else None
