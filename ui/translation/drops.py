"""File drops on the Translate page. GUI thread only.

A file manager's drag carries the files' URLs and usually their paths as plain text too, so
an editable text box would paste the path. The filter, installed on the source box's
viewport, claims drags that carry local files and lets every other drag, plain text
included, reach the box as Qt delivers it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal, SignalInstance
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent


def local_paths(event: QDropEvent) -> list[str]:
    """The local files a drag carries (none for plain text or web links)."""
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]


class FileDropFilter(QObject):
    """Install on a widget whose own drop handling should not see files.
    Signal: ``filesDropped(paths)``."""

    filesDropped = Signal(list)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, (QDragEnterEvent, QDragMoveEvent)) and local_paths(event):
            event.acceptProposedAction()
            return True
        if event.type() == QEvent.Type.Drop and isinstance(event, QDropEvent):
            paths = local_paths(event)
            if paths:
                event.acceptProposedAction()
                self.filesDropped.emit(paths)
                return True
        return super().eventFilter(watched, event)


class FileDropTarget:
    """A mixin for the page itself: it claims drops of local files anywhere on it and
    emits them as its ``filesDropped(paths)`` signal."""

    filesDropped: SignalInstance

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event)
        if paths:
            event.acceptProposedAction()
            self.filesDropped.emit(paths)
        else:
            event.ignore()
