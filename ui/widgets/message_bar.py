"""A dismissible one-line bar (banner, error, "Chat deleted. Undo"). GUI thread only."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QToolButton, QWidget

from ui.markdown.render import is_allowed_link
from ui.widgets.link_label import LinkLabel


class MessageBar(QFrame):
    """Label + optional action button + close button, on the palette's alternate base.

    Signals: ``actionTriggered()`` (the action button), ``dismissed()`` (the close button
    or the auto-hide timeout).
    """

    actionTriggered = Signal()
    dismissed = Signal()

    def __init__(self, action_text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # The palette's own tint: right on light and dark themes without picking colours.
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.label = LinkLabel(self)  # its links in the palette's colour after a theme change
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        # Links in a bar open only on click and only for http(s)/mailto.
        self.label.setOpenExternalLinks(False)
        self.label.linkActivated.connect(self._open_link)
        self.action_button = QPushButton(action_text, self)
        self.action_button.setVisible(bool(action_text))
        self.action_button.clicked.connect(self._on_action)
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAccessibleName("Dismiss")
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)
        self._auto_hide = QTimer(self)
        self._auto_hide.setSingleShot(True)
        self._auto_hide.timeout.connect(self.dismiss)
        self.hide()

    def show_message(self, text: str, *, rich: bool = False, timeout_ms: int = 0) -> None:
        """Show ``text`` (plain unless ``rich``); hide by itself after ``timeout_ms`` if > 0."""
        self.label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        self.label.setText(text)
        self.show()
        if timeout_ms > 0:
            self._auto_hide.start(timeout_ms)
        else:
            self._auto_hide.stop()

    def dismiss(self) -> None:
        self._auto_hide.stop()
        if not self.isHidden():
            self.hide()
            self.dismissed.emit()

    def _on_action(self) -> None:
        self._auto_hide.stop()
        self.hide()
        self.actionTriggered.emit()

    def _open_link(self, link: str) -> None:
        if is_allowed_link(link):
            QDesktopServices.openUrl(QUrl(link))
