"""The Documents page wired into the real app: real engine process (tiny model), real SQLite,
real widgets. The tiny model writes gibberish, so these tests check the flow (what is read,
queued, sent, shown and stored); where a test needs citations it scripts the final reply.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QFileDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.documents.extract import extract_document
from app.gui.documents.controller import DocumentsController, install_documents
from app.gui.documents.summary_jobs import NO_MODEL
from inference.protocol import ChatMessage, Done
from storage.documents import DocumentRepository
from storage.models import ChunkSummaryRow
from storage.records import Role
from tests.support.app_parts import AppParts
from tests.support.document_builders import (
    make_encrypted_pdf,
    make_image_only_pdf,
    make_large_text,
    make_pdf,
    make_scanned_pdf,
    page_text,
)
from tests.support.engine_helpers import kill_engine
from tests.support.page_waits import summaries_end, wait_read, work_ends
from tests.support.qt_user import answer_message_box, choose_menu_item, click_link, file_drag
from tests.support.umask import mode, umask
from ui.documents.page import REMOVE_DELETE, REMOVE_KEEP, DocumentsPage
from ui.documents.table_cells import COLUMNS

MakeApp = Callable[..., AppParts]
JOB_TIMEOUT_MS = 120_000
TOKENS = COLUMNS.index("Tokens")
STATUS = COLUMNS.index("Status")

WELL = """# The village well

The village of Ashford got its first public well in 1852. Before that, families carried
water from the river, a walk of two miles.

## Repairs

In 1901 the well ran dry during a drought. The council paid for a deeper shaft, which
was finished in the spring of 1902 and still gives water today.
"""


class Recorder:
    """Wraps the job's engine: records each request, can script the final reply and hold a
    request (on the job thread) until the test lets it go."""

    def __init__(self, inner: Any, final_reply: str | None = None) -> None:
        self.inner = inner
        self.final_reply = final_reply
        self.prompts: list[str] = []
        self.hold_at: int | None = None
        self.reached = threading.Event()
        self.release = threading.Event()

    @property
    def info(self) -> Any:
        return self.inner.info

    @property
    def n_ctx(self) -> int:
        return int(self.inner.n_ctx)

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Done:
        self.prompts.append(messages[-1].content)
        if self.hold_at == len(self.prompts):
            self.reached.set()
            self.release.wait(10)
        done = self.inner.chat(messages, **kwargs)
        if self.final_reply is not None and messages[-1].content.startswith("Summarize the"):
            done = dataclasses.replace(done, text=self.final_reply)
        return done

    def count_tokens(self, text: str) -> int:
        return int(self.inner.count_tokens(text))

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]:
        return list(self.inner.count_tokens_many(texts))

    def cancel(self) -> None:
        self.release.set()
        self.inner.cancel()


class EngineTap:
    """The engine wrapper a test's controller is built with: hands each job's engine to the
    recorder set last, and leaves it alone before any is set."""

    def __init__(self) -> None:
        self.recorder: Recorder | None = None

    def __call__(self, inner: Any) -> Any:
        recorder = self.recorder
        if recorder is None:
            return inner
        recorder.inner = inner
        return recorder


# The tap each controller built by docs_app was given, so that record(controller) finds it.
_taps: dict[DocumentsController, EngineTap] = {}


@pytest.fixture
def docs_app(make_app: MakeApp, tiny_model: Path) -> Iterator[Any]:
    """The app with the Documents page installed; shut down before the app's teardown."""
    controllers: list[DocumentsController] = []

    def build(
        parts: AppParts | None = None, **settings: object
    ) -> tuple[AppParts, DocumentsController]:
        if parts is None:
            parts = make_app(tiny_model, **settings)
        window, chat, database = parts
        tap = EngineTap()
        controller = install_documents(
            window,
            chat.session,
            database,
            seed_conversation=chat.seed_conversation,
            wrap_engine=tap,
        )
        _taps[controller] = tap
        controllers.append(controller)
        window.show_page(controller.page)
        return parts, controller

    yield build
    for controller in controllers:
        controller.shutdown()
        del _taps[controller]


def record(controller: DocumentsController, final_reply: str | None = None) -> Recorder:
    """From the next job on, `controller`'s summaries go through a new recorder."""
    recorder = Recorder(None, final_reply)
    _taps[controller].recorder = recorder
    return recorder


def cell(page: DocumentsPage, path: Path, column: int) -> str:
    row = page.row_of(str(path.resolve()))
    assert row >= 0, f"{path.name} is not listed"
    item = page.table.item(row, column)
    return item.text() if item is not None else ""


def open_and_wait(
    qtbot: QtBot, controller: DocumentsController, paths: Sequence[Path], counted: bool = True
) -> None:
    controller.open_paths([str(p) for p in paths])
    wait_read(qtbot, controller.page, paths)
    if counted:
        readable = [p for p in paths if not cell(controller.page, p, STATUS).startswith("Failed")]
        qtbot.waitUntil(
            lambda: all(cell(controller.page, p, TOKENS) not in ("", "…") for p in readable),
            timeout=30_000,
        )


def click_row(qtbot: QtBot, page: DocumentsPage, path: Path, add: bool = False) -> None:
    row = page.row_of(str(path.resolve()))
    rect = page.table.visualRect(page.table.model().index(row, 0))
    modifier = Qt.KeyboardModifier.ControlModifier if add else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def choose_options(qtbot: QtBot, page: DocumentsPage, words: int, language: str = "en") -> None:
    page.length_combo.setCurrentIndex(page.length_combo.findData("words"))
    page.words_spin.lineEdit().selectAll()
    qtbot.keyClicks(page.words_spin.lineEdit(), str(words))
    page.language_combo.setCurrentIndex(page.language_combo.findData(language))
    assert page.options() == (words, "bullets", language)


def summarize(qtbot: QtBot, controller: DocumentsController) -> None:
    with summaries_end(qtbot, controller.page, timeout=JOB_TIMEOUT_MS):
        qtbot.mouseClick(controller.page.summarize_button, Qt.MouseButton.LeftButton)


def chunk_summaries(database: Any, content_hash: str) -> int:
    with database.session() as session:
        rows = session.scalars(
            select(ChunkSummaryRow).where(ChunkSummaryRow.doc_hash == content_hash)
        )
        return len(list(rows))


# ---- tests ------------------------------------------------------------------------------------


def test_dropped_and_opened_files_show_pages_words_and_tokens(
    qtbot: QtBot, docs_app: Any, tmp_path: Path
) -> None:
    (window, chat, database), controller = docs_app()
    page = controller.page
    assert window.pages.tabText(window.pages.indexOf(page)) == "Documents"
    pdf = make_pdf(tmp_path / "report.pdf", [page_text(p) for p in (1, 2, 3)], title="Report")
    notes = tmp_path / "well.md"
    notes.write_text(WELL, encoding="utf-8")

    # A drop on the page, as from a file manager.
    _enter, drop = file_drag([pdf], QPoint(20, 20))
    page.dropEvent(drop)
    wait_read(qtbot, page, [pdf])
    assert drop.isAccepted()
    open_and_wait(qtbot, controller, [notes])
    qtbot.waitUntil(lambda: cell(page, pdf, TOKENS) not in ("", "…"), timeout=30_000)

    expected = extract_document(pdf)
    assert cell(page, pdf, 0) == "Report"
    assert cell(page, pdf, COLUMNS.index("Type")) == "PDF"
    assert cell(page, pdf, COLUMNS.index("Pages")) == "3"
    assert cell(page, pdf, COLUMNS.index("Words")) == f"{expected.words:,}"
    assert cell(page, notes, 0) == "The village well"
    type_cell = page.table.item(page.row_of(str(notes.resolve())), COLUMNS.index("Type"))
    assert type_cell.text() == "Markdown" and type_cell.toolTip() == "Markdown · English"
    assert cell(page, notes, COLUMNS.index("Pages")) == ""
    assert cell(page, pdf, STATUS) == "Ready"

    # The token count is the model's own count of the text, and it is kept in the library.
    with qtbot.waitSignal(chat.client.tokensCounted, timeout=10_000) as counted:
        chat.client.count_tokens(expected.text)
    assert cell(page, pdf, TOKENS) == f"{counted.args[1]:,}"
    stored = DocumentRepository(database).get_by_hash(expected.content_hash)
    assert stored is not None and stored.tokens == counted.args[1]
    assert stored.path == str(pdf.resolve()) and stored.pages == 3


def test_bad_files_show_a_plain_message_and_the_app_keeps_going(
    qtbot: QtBot, docs_app: Any, tmp_path: Path
) -> None:
    _parts, controller = docs_app()
    page = controller.page
    corrupt = tmp_path / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "binary.docx"
    binary.write_bytes(os.urandom(4000))
    scanned = make_image_only_pdf(tmp_path / "scan.pdf")
    locked = make_encrypted_pdf(tmp_path / "locked.pdf")
    bad = [corrupt, empty, binary, scanned, locked]
    open_and_wait(qtbot, controller, bad, counted=False)

    for path in bad:
        status = cell(page, path, STATUS)
        if path == scanned and shutil.which("tesseract"):
            # Not a failure where OCR can read it: the row points at the Run OCR offer.
            assert status == "Scanned, no text: Run OCR above", status
            continue
        assert status.startswith("Failed: ") and path.name in status, status
    assert "empty" in cell(page, empty, STATUS)
    assert page.error_bar.isVisible()
    shown = page.error_bar.label.text().splitlines()
    assert len(shown) == 5 and {line.split(" ")[0].rstrip(":") for line in shown} == {
        path.name for path in bad
    }

    # A good document after the bad ones is read and can be summarized.
    good = tmp_path / "well.md"
    good.write_text(WELL, encoding="utf-8")
    open_and_wait(qtbot, controller, [good])
    assert cell(page, good, STATUS) == "Ready"
    click_row(qtbot, page, good)
    choose_options(qtbot, page, words=20)
    record(controller)
    summarize(qtbot, controller)
    assert cell(page, good, STATUS) == "Done"


def test_a_queue_of_two_documents_finishes_in_order(
    qtbot: QtBot, docs_app: Any, tmp_path: Path
) -> None:
    (_window, _chat, database), controller = docs_app()
    page = controller.page
    first = tmp_path / "first.md"
    first.write_text("# First\n\n" + page_text(1), encoding="utf-8")
    second = tmp_path / "second.md"
    second.write_text("# Second\n\n" + page_text(2), encoding="utf-8")
    open_and_wait(qtbot, controller, [first, second])
    click_row(qtbot, page, first)
    click_row(qtbot, page, second, add=True)
    assert len(page.selected_paths()) == 2
    choose_options(qtbot, page, words=20)
    recorder = record(controller)
    done: list[Path] = []  # the rows in the order their Status turned "Done"

    def note_done() -> None:
        for path in (first, second):
            if path not in done and cell(page, path, STATUS) == "Done":
                done.append(path)

    page.table.model().dataChanged.connect(lambda *_: note_done())
    progress: list[int] = []
    page.progress.valueChanged.connect(progress.append)
    statuses: list[str] = []
    controller.page.table.itemChanged.connect(lambda item: statuses.append(item.text()))

    summarize(qtbot, controller)

    assert done == [first, second]
    assert len(recorder.prompts) == 2
    assert "First" in recorder.prompts[0] and "Second" in recorder.prompts[1]
    assert progress == sorted(progress) and page.progress.value() == page.progress.maximum()
    assert "All 2 summaries finished" in page.progress.format()
    assert cell(page, first, STATUS) == cell(page, second, STATUS) == "Done"
    assert not page.cancel_button.isEnabled()
    # The view shows the last summary, and both are stored.
    assert page.summary_title.text() == "Summary · Second"
    assert page.summary_view.toPlainText().strip()
    repository = DocumentRepository(database)
    for path in (first, second):
        assert len(repository.finals_for(extract_document(path).content_hash)) == 1


def test_cancel_keeps_finished_parts_and_the_next_run_resumes(
    qtbot: QtBot, docs_app: Any, tmp_path: Path
) -> None:
    (_window, _chat, database), controller = docs_app(n_ctx=1024)
    page = controller.page
    pdf = make_pdf(tmp_path / "long.pdf", [page_text(p, sentences=14) for p in range(1, 13)])
    content_hash = extract_document(pdf).content_hash
    open_and_wait(qtbot, controller, [pdf])
    click_row(qtbot, page, pdf)
    choose_options(qtbot, page, words=60)

    first = record(controller)
    first.hold_at = 3
    qtbot.mouseClick(page.summarize_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(first.reached.is_set, timeout=JOB_TIMEOUT_MS)
    assert cell(page, pdf, STATUS).startswith("Summarizing ")
    assert page.cancel_button.isEnabled() and page.progress.isVisible()
    with summaries_end(qtbot, page, timeout=5_000):
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert cell(page, pdf, STATUS) == "Cancelled"
    assert chunk_summaries(database, content_hash) == 2  # the held third reply was never kept

    second = record(controller)
    summarize(qtbot, controller)
    assert cell(page, pdf, STATUS) == "Done"
    total = chunk_summaries(database, content_hash)
    assert total > 3
    assert len(second.prompts) == total + 1 - 2  # every part and the final pass, minus two

    # The same settings again: straight from the library, no request at all.
    third = record(controller)
    summarize(qtbot, controller)
    assert third.prompts == []
    assert cell(page, pdf, STATUS) == "Done"
    assert page.summary_view.toPlainText().strip()


SCRIPTED = "- The first point of the report. [c0]\n- A second point. [c0]"


def summarize_scripted(
    qtbot: QtBot, controller: DocumentsController, tmp_path: Path
) -> tuple[Path, Recorder]:
    pdf = make_pdf(tmp_path / "three.pdf", [page_text(p) for p in (1, 2, 3)], title="Three")
    open_and_wait(qtbot, controller, [pdf])
    click_row(qtbot, controller.page, pdf)
    choose_options(qtbot, controller.page, words=20, language="auto")
    recorder = record(controller, final_reply=SCRIPTED)
    summarize(qtbot, controller)
    # "Same as document": the detected language is named in the prompt.
    assert recorder.prompts and "Write in English." in recorder.prompts[-1]
    return pdf, recorder


def test_clicking_a_citation_shows_that_page(qtbot: QtBot, docs_app: Any, tmp_path: Path) -> None:
    _parts, controller = docs_app()
    page = controller.page
    _pdf, recorder = summarize_scripted(qtbot, controller, tmp_path)
    assert len(recorder.prompts) == 1  # three short pages fit one pass
    shown = page.summary_view.toPlainText()
    assert "The first point of the report." in shown and "[c0]" not in shown
    assert "[p. 1]" in shown and "[p. 2]" in shown and "[p. 3]" in shown

    click_link(qtbot, page.summary_view, "p. 2")
    assert page.passage_title.text() == "Source passage · p. 2"
    passage = page.passage_view.toPlainText()
    assert "Page 2 sentence 0" in passage and "Page 1 " not in passage and "Page 3 " not in passage

    click_link(qtbot, page.summary_view, "p. 3")
    assert "Page 3 sentence 5" in page.passage_view.toPlainText()


def test_export_writes_markdown_and_reports_a_failed_write(
    qtbot: QtBot, docs_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _parts, controller = docs_app()
    page = controller.page
    pdf, _recorder = summarize_scripted(qtbot, controller, tmp_path)
    target = tmp_path / "out" / "three.md"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    with umask(0o027):
        qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert mode(target) == 0o640  # what any new file of the user gets
    written = target.read_text(encoding="utf-8")
    assert written.startswith("# Summary: Three\n")
    assert f"Source: {pdf.resolve()}" in written
    assert "- The first point of the report. (p. 1, p. 2, p. 3)" in written
    assert "Summary saved to" in page.error_bar.label.text()

    # A folder that cannot hold files (a file stands where the folder should be).
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    bad_target = blocked / "three.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(bad_target), ""))
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert page.error_bar.isVisible()
    assert page.error_bar.label.text().startswith(f"The summary could not be saved to {bad_target}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_export_to_a_read_only_folder_shows_an_error(
    qtbot: QtBot, docs_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _parts, controller = docs_app()
    summarize_scripted(qtbot, controller, tmp_path)
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    target = folder / "summary.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    try:
        qtbot.mouseClick(controller.page.export_button, Qt.MouseButton.LeftButton)
    finally:
        folder.chmod(0o755)
    assert not target.exists()
    assert "Permission denied" in controller.page.error_bar.label.text()


def test_discuss_in_chat_seeds_a_conversation(qtbot: QtBot, docs_app: Any, tmp_path: Path) -> None:
    (window, chat, _database), controller = docs_app()
    summarize_scripted(qtbot, controller, tmp_path)
    qtbot.mouseClick(controller.page.discuss_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentIndex() == 0
    conversation = chat.conversations.list_recent()[0]
    assert conversation.title == "Summary: Three"
    user, assistant = chat.messages.active_path(conversation.id)
    assert user.role == Role.USER and "Three" in user.content
    assert assistant.role == Role.ASSISTANT
    assert assistant.content.startswith("- The first point of the report. (p. 1, p. 2, p. 3)")


def test_the_library_lists_summarized_documents_at_start(
    qtbot: QtBot, docs_app: Any, tmp_path: Path
) -> None:
    parts, controller = docs_app()
    pdf, _recorder = summarize_scripted(qtbot, controller, tmp_path)
    controller.shutdown()

    # A new page on the same database: the document is listed without opening it again.
    _parts, again = docs_app(parts)
    page = again.page
    assert cell(page, pdf, 0) == "Three" and cell(page, pdf, STATUS) == "Done"
    choose_options(qtbot, page, words=20, language="auto")
    click_row(qtbot, page, pdf)
    assert "The first point of the report." in page.summary_view.toPlainText()
    # Its passages are read from the file when a citation is clicked.
    click_link(qtbot, page.summary_view, "p. 2")
    wait_read(qtbot, page, [pdf])
    assert "Page 2 sentence 0" in page.passage_view.toPlainText()
    # Other options have no stored summary.
    page.style_combo.setCurrentIndex(page.style_combo.findData("paragraph"))
    assert page.summary_view.toPlainText() == ""


def test_an_engine_crash_fails_the_job_and_keeps_its_parts(
    qtbot: QtBot, docs_app: Any, tmp_path: Path
) -> None:
    (window, chat, database), controller = docs_app(n_ctx=1024)
    page = controller.page
    pdf = make_pdf(tmp_path / "long.pdf", [page_text(p, sentences=14) for p in range(1, 13)])
    content_hash = extract_document(pdf).content_hash
    open_and_wait(qtbot, controller, [pdf])
    click_row(qtbot, page, pdf)
    choose_options(qtbot, page, words=60)
    recorder = record(controller)
    recorder.hold_at = 3
    qtbot.mouseClick(page.summarize_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(recorder.reached.is_set, timeout=JOB_TIMEOUT_MS)
    with qtbot.waitSignal(chat.client.engineCrashed, timeout=10_000):
        kill_engine(chat.client)
    with summaries_end(qtbot, page, timeout=30_000):
        recorder.release.set()
    assert cell(page, pdf, STATUS).startswith("Failed: ")
    assert "Finished parts are kept" in page.error_bar.label.text()
    assert chunk_summaries(database, content_hash) == 2
    assert window.isVisible()

    # Without a model the job waits and says so; once the model is back it resumes from
    # the two kept parts.
    resumed = record(controller)
    qtbot.mouseClick(page.summarize_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: cell(page, pdf, STATUS) == "Waiting for the model", timeout=10_000)
    assert page.error_bar.label.text() == NO_MODEL and resumed.prompts == []
    with summaries_end(qtbot, page, timeout=JOB_TIMEOUT_MS):
        chat.session.load_chosen()
    assert cell(page, pdf, STATUS) == "Done"
    assert not page.error_bar.isVisible()
    assert len(resumed.prompts) == chunk_summaries(database, content_hash) + 1 - 2


@pytest.mark.slow
def test_gemma_summarizes_a_short_document_through_the_page(
    qtbot: QtBot, make_app: MakeApp, gemma_model: Path, tmp_path: Path
) -> None:
    window, chat, database = make_app(gemma_model, n_ctx=2048)
    controller = install_documents(
        window, chat.session, database, seed_conversation=chat.seed_conversation
    )
    try:
        page = controller.page
        notes = tmp_path / "well.md"
        notes.write_text(WELL, encoding="utf-8")
        open_and_wait(qtbot, controller, [notes])
        click_row(qtbot, page, notes)
        choose_options(qtbot, page, words=40)
        streamed: list[str] = []
        controller.queue.jobDelta.connect(lambda _job, text: streamed.append(text))
        summarize(qtbot, controller)
        assert cell(page, notes, STATUS) == "Done"
        shown = page.summary_view.toPlainText()
        assert shown.strip() and "".join(streamed).strip()
        assert "[The village well" in shown or "[Repairs" in shown  # citation links
        stored = DocumentRepository(database).finals_for(extract_document(notes).content_hash)
        assert len(stored) == 1 and stored[0].text
    finally:
        controller.shutdown()


def test_shutdown_during_a_summary_stops_it_and_every_thread(
    qtbot: QtBot, docs_app: Any, tmp_path: Path
) -> None:
    (_window, _chat, database), controller = docs_app(n_ctx=1024)
    page = controller.page
    pdf = make_pdf(tmp_path / "long.pdf", [page_text(p, sentences=14) for p in range(1, 13)])
    open_and_wait(qtbot, controller, [pdf])
    click_row(qtbot, page, pdf)
    choose_options(qtbot, page, words=60)
    recorder = record(controller)
    recorder.hold_at = 2
    qtbot.mouseClick(page.summarize_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(recorder.reached.is_set, timeout=JOB_TIMEOUT_MS)
    controller.shutdown()
    # The job ended and kept its finished part; no thread of the page is left.
    assert not [t for t in threading.enumerate() if t.name.startswith("documents-")]
    assert not page.cancel_button.isEnabled()
    assert chunk_summaries(database, extract_document(pdf).content_hash) == 1


def press_delete(qtbot: QtBot, page: DocumentsPage) -> None:
    """Delete on the focused list of the active window (a closed dialog took both away)."""
    page.window().activateWindow()
    qtbot.waitUntil(page.window().isActiveWindow)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)


def test_removing_a_document_keeps_the_file_and_optionally_its_summaries(
    qtbot: QtBot, docs_app: Any, tmp_path: Path
) -> None:
    (_window, _chat, database), controller = docs_app()
    page = controller.page
    pdf, _recorder = summarize_scripted(qtbot, controller, tmp_path)
    notes = tmp_path / "well.md"
    notes.write_text(WELL, encoding="utf-8")
    open_and_wait(qtbot, controller, [notes])
    repository = DocumentRepository(database)
    pdf_hash = extract_document(pdf).content_hash
    notes_hash = extract_document(notes).content_hash

    # Delete on the summarized PDF, keeping its summaries.
    click_row(qtbot, page, pdf)
    answer_message_box(qtbot, REMOVE_KEEP)
    press_delete(qtbot, page)
    assert page.row_of(str(pdf.resolve())) == -1 and page.row_of(str(notes.resolve())) >= 0
    assert pdf.is_file()
    assert repository.get_by_hash(pdf_hash) is None
    assert len(repository.finals_for(pdf_hash)) == 1
    assert "Removed 1 document" in page.error_bar.label.text()
    assert page.summary_view.toPlainText() == ""

    # Opened again, it is back with its summary.
    open_and_wait(qtbot, controller, [pdf])
    assert cell(page, pdf, STATUS) == "Done"
    assert "The first point of the report." in page.summary_view.toPlainText()

    # The context menu on both rows, deleting their summaries too.
    click_row(qtbot, page, pdf)
    click_row(qtbot, page, notes, add=True)
    choose_menu_item(
        qtbot, "Remove from library…", then=lambda: answer_message_box(qtbot, REMOVE_DELETE)
    )
    point = page.table.visualRect(page.table.model().index(0, 0)).center()
    viewport = page.table.viewport()
    QApplication.sendEvent(
        viewport,
        QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, viewport.mapToGlobal(point)),
    )
    qtbot.waitUntil(lambda: page.table.rowCount() == 0, timeout=5_000)
    assert pdf.is_file() and notes.is_file()
    assert repository.list_recent() == []
    assert repository.finals_for(pdf_hash) == [] and repository.finals_for(notes_hash) == []


def test_removing_a_document_being_summarized_cancels_its_job(
    qtbot: QtBot, docs_app: Any, tmp_path: Path
) -> None:
    (_window, _chat, database), controller = docs_app(n_ctx=1024)
    page = controller.page
    pdf = make_pdf(tmp_path / "long.pdf", [page_text(p, sentences=14) for p in range(1, 13)])
    content_hash = extract_document(pdf).content_hash
    open_and_wait(qtbot, controller, [pdf])
    click_row(qtbot, page, pdf)
    choose_options(qtbot, page, words=60)
    recorder = record(controller)
    recorder.hold_at = 2
    qtbot.mouseClick(page.summarize_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(recorder.reached.is_set, timeout=JOB_TIMEOUT_MS)
    assert chunk_summaries(database, content_hash) == 1

    seen: list[str] = []
    answer_message_box(qtbot, REMOVE_DELETE, seen)
    with summaries_end(qtbot, page, timeout=10_000):
        press_delete(qtbot, page)
    assert "cancelled first" in seen[0]
    assert page.table.rowCount() == 0 and not page.cancel_button.isEnabled()
    assert pdf.is_file()
    assert DocumentRepository(database).get_by_hash(content_hash) is None
    assert chunk_summaries(database, content_hash) == 0


def test_a_huge_text_file_shows_its_words_and_an_estimated_token_count(
    qtbot: QtBot, docs_app: Any, tmp_path: Path
) -> None:
    (_window, _chat, database), controller = docs_app()
    page = controller.page
    path, words = make_large_text(tmp_path / "huge.txt", megabytes=12)
    open_and_wait(qtbot, controller, [path])
    assert cell(page, path, COLUMNS.index("Words")) == f"{words:,}"
    tokens = cell(page, path, TOKENS)
    assert tokens.startswith("≈") and int(tokens[1:].replace(",", "")) > words
    assert "Estimated" in page.table.item(page.row_of(str(path.resolve())), TOKENS).toolTip()
    stored = DocumentRepository(database).get_by_hash(extract_document(path).content_hash)
    assert stored is not None and stored.words == words and stored.tokens is None


def test_a_scanned_pdf_without_tesseract_says_how_to_install_it(
    qtbot: QtBot, docs_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    _parts, controller = docs_app()
    page = controller.page
    scan = make_scanned_pdf(tmp_path / "scan.pdf", ["The village well was dug in 1852."])
    open_and_wait(qtbot, controller, [scan], counted=False)
    assert cell(page, scan, STATUS).startswith("Failed: ")
    assert "sudo apt-get install tesseract-ocr" in page.error_bar.label.text()
    assert not page.error_bar.action_button.isVisible()


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed")
def test_run_ocr_reads_a_scanned_pdf_and_its_pages_are_cited(
    qtbot: QtBot, docs_app: Any, tmp_path: Path
) -> None:
    _parts, controller = docs_app()
    page = controller.page
    scan = make_scanned_pdf(
        tmp_path / "scan.pdf",
        ["The village well was dug in 1852.", "Repairs came in 1901 after a drought."],
    )
    open_and_wait(qtbot, controller, [scan], counted=False)
    assert "no text layer" in page.error_bar.label.text()
    button = page.error_bar.action_button
    assert button.isVisible() and button.text() == "Run OCR"
    assert cell(page, scan, STATUS) == "Scanned, no text: Run OCR above"  # not "Failed"

    statuses: list[str] = []
    page.progress.valueChanged.connect(lambda _value: statuses.append(cell(page, scan, STATUS)))
    with work_ends(qtbot, page.cancel_button, timeout=60_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert page.cancel_button.isEnabled()  # OCR can be cancelled while it runs
    assert "OCR page 1 of 2" in statuses  # the page being read next is shown at 50 %
    assert cell(page, scan, STATUS) == "Ready" and cell(page, scan, COLUMNS.index("Pages")) == "2"
    assert not page.cancel_button.isEnabled()

    click_row(qtbot, page, scan)
    choose_options(qtbot, page, words=20)
    record(controller, final_reply=SCRIPTED)
    summarize(qtbot, controller)
    click_link(qtbot, page.summary_view, "p. 2")
    assert "drought" in page.passage_view.toPlainText()


def test_a_file_dropped_on_the_chat_box_or_transcript_opens_in_documents(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, tmp_path: Path
) -> None:
    window, _chat, _database = make_app(tiny_model, n_ctx=1024, pages=True)
    documents = window.findChild(DocumentsController)
    assert documents is not None
    notes = tmp_path / "well.md"
    notes.write_text(WELL, encoding="utf-8")
    report = make_pdf(tmp_path / "report.pdf", [page_text(1)], title="Report")
    qtbot.keyClicks(window.message_input, "half a thought")

    # Qt delivers a drop to the widget under the pointer and passes it up while ignored.
    for target, path in ((window.message_input, notes), (window.chat_view, report)):
        window.show_page(window.pages.widget(0))
        enter, drop = file_drag([path])
        QApplication.sendEvent(target.viewport(), enter)
        assert enter.isAccepted()
        QApplication.sendEvent(target.viewport(), drop)
        wait_read(qtbot, documents.page, [path])
        assert drop.isAccepted()
        assert window.pages.currentWidget() is documents.page
        assert documents.page.row_of(str(path.resolve())) >= 0
    # The draft is as typed: no file path was pasted into it.
    assert window.message_input.toPlainText() == "half a thought"


def test_chunk_summaries_and_an_estimate_show_while_the_job_runs(
    qtbot: QtBot, docs_app: Any, tmp_path: Path
) -> None:
    _parts, controller = docs_app(n_ctx=1024)
    page = controller.page
    pdf = make_pdf(tmp_path / "long.pdf", [page_text(p, sentences=14) for p in range(1, 13)])
    open_and_wait(qtbot, controller, [pdf])
    click_row(qtbot, page, pdf)
    choose_options(qtbot, page, words=60)
    recorder = record(controller)
    recorder.hold_at = 3  # two chunks are summarized, the third waits
    qtbot.mouseClick(page.summarize_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(recorder.reached.is_set, timeout=JOB_TIMEOUT_MS)
    qtbot.waitUntil(lambda: "Part 2 of" in page.summary_view.toPlainText(), timeout=5_000)
    shown = page.summary_view.toPlainText()
    assert shown.startswith("Part 1 of ") and "· p. 1" in shown.splitlines()[0]
    label = page.progress_label.text()
    assert "2 of " in label and "chunks done" in label
    # Two requests are timed, so there is an estimate: never "measuring the speed…" again.
    # (It reads "about N s left", or nothing when under half a second, as with this tiny
    # model on a fast machine: which one depends on the clock, so the test does not ask.)
    assert "measuring the speed" not in label
    assert not page.progress.isTextVisible()
    with summaries_end(qtbot, page, timeout=JOB_TIMEOUT_MS):
        recorder.release.set()
    assert "Final summary" not in page.summary_view.toPlainText()  # the finished one replaced it
    assert cell(page, pdf, STATUS) == "Done"
