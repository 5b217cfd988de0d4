"""Find and download GGUF models on Hugging Face: search, a repository's files with their fit
on this machine, the download with progress and Pause/Resume/Cancel, and the access token for
gated repositories. GUI thread only; the controller does the network work elsewhere.

Signals: ``searchRequested(text)``, ``repoSelected(repo_id)``, ``fileSelected(key)`` (the
selected file changed; "" for none), ``waitCancelled()`` (Cancel pressed while a search or a
listing runs), ``downloadRequested(key)``, ``pauseRequested()``,
``resumeRequested()``, ``cancelRequested()``, ``tokenSaveRequested(token)``,
``tokenForgetRequested()``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.models.rows import DownloadState, RemoteFileRow, RepoRow

REPO_COLUMNS = ("Repository", "Downloads", "Access")
FILE_COLUMNS = ("File", "Quantization", "Size", "Fit on this computer")


def _table(columns: Sequence[str], parent: QWidget) -> QTableWidget:
    """The first column (a name) takes the room left and is elided in the middle, where
    names differ least; the others are as wide as their contents, so the fit verdict is
    never cut off. Every cell carries its full text as a tooltip."""
    table = QTableWidget(0, len(columns), parent)
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setStretchLastSection(False)
    header.setMinimumSectionSize(48)  # a squeezed name still shows its ends around the "…"
    return table


def _item(text: str, tooltip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(tooltip or text)
    return item


class HubPanel(QWidget):
    searchRequested = Signal(str)
    repoSelected = Signal(str)
    fileSelected = Signal(str)
    waitCancelled = Signal()
    downloadRequested = Signal(str)
    pauseRequested = Signal()
    resumeRequested = Signal()
    cancelRequested = Signal()
    tokenSaveRequested = Signal(str)
    tokenForgetRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._files: list[RemoteFileRow] = []
        self._selected_key = ""
        self._running = False  # a download is in progress

        token_box = QGroupBox("Access token (only for gated or private repositories)", self)
        self.token_edit = QLineEdit(token_box)
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("hf_… from huggingface.co/settings/tokens")
        self.token_save = QPushButton("Save token", token_box)
        self.token_forget = QPushButton("Forget token", token_box)
        self.token_state = QLabel(token_box)
        token_row = QHBoxLayout(token_box)
        token_row.addWidget(self.token_edit, 1)
        token_row.addWidget(self.token_save)
        token_row.addWidget(self.token_forget)
        token_row.addWidget(self.token_state)

        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText("Search GGUF models, e.g. gemma 3 or qwen2.5 7b")
        self.search_edit.setClearButtonEnabled(True)
        self.search_button = QPushButton("Search", self)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_edit, 1)
        search_row.addWidget(self.search_button)
        self.status_label = QLabel("Search Hugging Face for a model in GGUF format.", self)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # While a search or a listing waits for the Hub: a busy bar and a way out.
        self.busy_bar = QProgressBar(self)
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setAccessibleName("Waiting for Hugging Face")
        self.wait_cancel_button = QPushButton("Cancel", self)
        self.wait_cancel_button.setToolTip("Stop waiting for Hugging Face")
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.busy_bar)
        status_row.addWidget(self.wait_cancel_button)

        self.repo_table = _table(REPO_COLUMNS, self)
        self.file_table = _table(FILE_COLUMNS, self)
        self.files_title = QLabel("Pick a repository to see its files.", self)
        # The selected file's verdict in full, with the numbers behind it.
        self.fit_details = QLabel(self)
        self.fit_details.setWordWrap(True)
        self.fit_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        files_box = QWidget(self)
        files_layout = QVBoxLayout(files_box)
        files_layout.setContentsMargins(0, 0, 0, 0)
        files_layout.addWidget(self.files_title)
        files_layout.addWidget(self.file_table, 1)
        files_layout.addWidget(self.fit_details)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.repo_table)
        splitter.addWidget(files_box)
        splitter.setSizes([320, 740])
        splitter.setChildrenCollapsible(False)

        self.download_button = QPushButton("Download", self)
        self.download_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress_label = QLabel(self)
        self.progress_label.setWordWrap(True)
        self.pause_button = QPushButton("Pause", self)
        self.resume_button = QPushButton("Resume", self)
        self.cancel_button = QPushButton("Cancel", self)
        download_row = QHBoxLayout()
        download_row.addWidget(self.download_button)
        download_row.addWidget(self.progress, 1)
        download_row.addWidget(self.pause_button)
        download_row.addWidget(self.resume_button)
        download_row.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addWidget(token_box)
        layout.addLayout(search_row)
        layout.addLayout(status_row)
        layout.addWidget(splitter, 1)
        layout.addLayout(download_row)
        layout.addWidget(self.progress_label)
        self.show_download(DownloadState("idle", ""))
        self._show_waiting(False)

        self.wait_cancel_button.clicked.connect(self.waitCancelled)
        self.search_edit.returnPressed.connect(self._search)
        self.search_button.clicked.connect(self._search)
        self.repo_table.itemSelectionChanged.connect(self._on_repo)
        self.file_table.itemSelectionChanged.connect(self._on_file)
        self.file_table.itemDoubleClicked.connect(lambda _item: self._download())
        self.download_button.clicked.connect(self._download)
        self.pause_button.clicked.connect(self.pauseRequested)
        self.resume_button.clicked.connect(self.resumeRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.token_save.clicked.connect(self._save_token)
        self.token_edit.returnPressed.connect(self._save_token)
        self.token_forget.clicked.connect(self.tokenForgetRequested)

    # ---- API for the controller -----------------------------------------------------------

    def set_status(self, text: str) -> None:
        """A result or an error: nothing is being waited for any more."""
        self._show_waiting(False)
        self.status_label.setText(text)

    def show_waiting(self, text: str) -> None:
        """A search or listing is under way: `text`, a busy bar and Cancel."""
        self.status_label.setText(text)
        self._show_waiting(True)

    def is_waiting(self) -> bool:
        return not self.busy_bar.isHidden()

    def show_repos(self, rows: Sequence[RepoRow]) -> None:
        self.repo_table.blockSignals(True)
        self.repo_table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            self.repo_table.setItem(r, 0, _item(row.repo_id))
            self.repo_table.setItem(r, 1, _item(row.downloads))
            access = "gated: token" if row.gated else "open"
            hint = "Accept its terms on Hugging Face and add an access token" if row.gated else ""
            self.repo_table.setItem(r, 2, _item(access, hint))
        self.repo_table.blockSignals(False)
        self.show_files("", [])

    def show_files(self, repo_id: str, rows: Sequence[RemoteFileRow]) -> None:
        """Replace the file list; the selected file stays selected (else the first one)."""
        keep = self._selected_key
        self._files = list(rows)
        self.file_table.blockSignals(True)
        self.file_table.clearSelection()
        self.file_table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            parts = f" ({row.parts} parts)" if row.parts > 1 else ""
            name = row.key + parts + ("  ✓ installed" if row.installed else "")
            if row.partial and not row.installed:
                name += f"  ◐ {row.partial}"
            hint = f"{row.key}: {row.partial}" if row.partial else row.key
            self.file_table.setItem(r, 0, _item(name, hint))
            self.file_table.setItem(r, 1, _item(row.quantization or "?"))
            self.file_table.setItem(r, 2, _item(row.size))
            self.file_table.setItem(r, 3, _item(row.fit, row.fit_details or row.fit))
        keys = [row.key for row in rows]
        if rows:
            self.file_table.selectRow(keys.index(keep) if keep in keys else 0)
        self.file_table.blockSignals(False)
        if repo_id:
            self.files_title.setText(f"GGUF files in {repo_id}:")
        else:
            self.files_title.setText("Pick a repository to see its files.")
        self._on_file()

    def selected_repo(self) -> str:
        rows = self.repo_table.selectionModel().selectedRows()
        return self.repo_table.item(rows[0].row(), 0).text() if rows else ""

    def selected_file(self) -> str:
        rows = self.file_table.selectionModel().selectedRows()
        return self._files[rows[0].row()].key if rows else ""

    def fit_text(self, key: str) -> str:
        """The fit cell of file `key` as shown ("" when it is not listed)."""
        keys = [row.key for row in self._files]
        return self.file_table.item(keys.index(key), 3).text() if key in keys else ""

    def show_download(self, state: DownloadState) -> None:
        running = state.state == "running"
        paused = state.state == "paused"
        self._running = running
        self.progress.setVisible(state.state != "idle")
        if state.fraction is None:
            self.progress.setRange(0, 0 if running else 1000)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(max(0.0, min(1.0, state.fraction)) * 1000))
        self.progress_label.setText(state.text)
        self.pause_button.setVisible(running)
        self.resume_button.setVisible(paused)
        self.cancel_button.setVisible(running or paused)
        self.download_button.setEnabled(not running and bool(self.selected_file()))

    def set_token_state(self, text: str, *, stored: bool) -> None:
        self.token_state.setText(text)
        self.token_forget.setEnabled(stored)

    def ask_for_token(self, message: str) -> None:
        """A repository needs a token: say so and put the cursor where it goes."""
        self.set_status(message)
        self.token_edit.setFocus()

    # ---- internals -------------------------------------------------------------------------

    def _show_waiting(self, waiting: bool) -> None:
        self.busy_bar.setVisible(waiting)
        self.wait_cancel_button.setVisible(waiting)

    def _search(self) -> None:
        text = self.search_edit.text().strip()
        if text:
            self.searchRequested.emit(text)
        else:
            self.set_status("Type what to search for, e.g. the model's name.")

    def _on_repo(self) -> None:
        repo = self.selected_repo()
        if repo:
            self.repoSelected.emit(repo)

    def _on_file(self) -> None:
        key = self.selected_file()
        self.download_button.setEnabled(not self._running and bool(key))
        row = next((r for r in self._files if r.key == key), None)
        self.fit_details.setText(row.fit_details if row else "")
        self.fit_details.setVisible(bool(row and row.fit_details))
        if key != self._selected_key:
            self._selected_key = key
            self.fileSelected.emit(key)

    def _download(self) -> None:
        key = self.selected_file()
        if key and not self._running:
            self.downloadRequested.emit(key)

    def _save_token(self) -> None:
        token = self.token_edit.text().strip()
        if not token:
            self.set_status("Paste the access token first (it starts with hf_).")
            return
        self.tokenSaveRequested.emit(token)
        self.token_edit.clear()
