"""Exporting chats to Markdown, HTML and Hearth JSON, and writing the files safely."""

from __future__ import annotations

import errno
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from app.config.paths import resolve_paths
from app.entry import main
from app.gui.chat.export import (
    ExportError,
    conversation_markdown,
    export_chats,
    format_for_path,
    write_atomically,
)
from app.util import atomic_write
from storage.chats import MessageRepository
from storage.database import Database
from storage.records import MessageRecord, MessageStatus, Role
from tests.support.chat_samples import (
    ANSWER,
    CODE,
    CUT_ANSWER,
    EDITED_QUESTION,
    QUESTION,
    SYSTEM_PROMPT,
    TITLE,
    Sample,
    build_sample,
    open_database,
)
from tests.support.umask import mode, umask


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "data" / "hearth.db")
    yield database
    database.close()


@pytest.fixture
def sample(db: Database) -> Sample:
    return build_sample(db)


def _export_text(db: Database, path: Path, fmt: str, conversation_id: int | None = None) -> str:
    export_chats(db, path, fmt, conversation_id=conversation_id)  # type: ignore[arg-type]
    return path.read_text(encoding="utf-8")


# ---- Markdown ------------------------------------------------------------------------------


def _inline_texts(markdown: str, tag: str) -> list[str]:
    """The text of each `tag` block as a Markdown viewer shows it; raw HTML would be a
    separate html_inline token and is refused here."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    texts: list[str] = []
    for opening, inline in itertools.pairwise(tokens):
        if opening.type == f"{'heading' if tag[0] == 'h' else 'paragraph'}_open" and (
            opening.tag == tag
        ):
            children = inline.children or []
            if any(c.type == "html_inline" for c in children):
                texts.append("<raw html>")
                continue
            texts.append("".join("\n" if c.type == "softbreak" else c.content for c in children))
    return texts


def _loose_records(first: str, second: str) -> list[MessageRecord]:
    """Two records without a database, as "Copy as Markdown" receives them."""
    now = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
    return [
        MessageRecord(1, 1, None, Role.ASSISTANT, first, MessageStatus.INTERRUPTED, now, now),
        MessageRecord(2, 1, 1, Role.USER, second, MessageStatus.COMPLETE, now, now),
    ]


def test_markdown_shows_the_shown_branch_readably(
    db: Database, sample: Sample, tmp_path: Path
) -> None:
    text = _export_text(db, tmp_path / "chat.md", "md", sample.main_id)

    # Plain-text fields show as written, never as markup or raw HTML.
    assert _inline_texts(text, "h1") == [TITLE]
    assert SYSTEM_PROMPT in _inline_texts(text, "p")
    assert "Error: The engine stopped <b>unexpectedly</b>." in _inline_texts(text, "p")
    assert text.count("### You · ") == 2 and text.count("### Assistant · ") == 2
    # The shown versions only: not the stopped regeneration, not the edited question.
    assert QUESTION in text and ANSWER in text
    assert CUT_ANSWER.strip() not in text and EDITED_QUESTION not in text
    assert "_97.1 tok/s · engine 36 ms to first token · 42 tokens" in text
    answer = MessageRepository(db).get(sample.answer_id)
    assert answer is not None
    stamp = answer.created_at.astimezone().isoformat(sep=" ", timespec="minutes")
    assert f"### Assistant · {stamp}" in text

    # Code blocks survive as code blocks, character for character.
    fences = [t for t in MarkdownIt("commonmark").parse(text) if t.type == "fence"]
    assert [(f.info, f.content) for f in fences] == [("python", CODE + "\n")]


def test_a_reply_cut_inside_a_code_block_does_not_swallow_the_rest() -> None:
    text = conversation_markdown(_loose_records(CUT_ANSWER, "after"), title="Cut")
    tokens = MarkdownIt("commonmark").parse(text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[-1].startswith("You · ")  # the message after the cut is still a heading
    fences = [t for t in tokens if t.type == "fence"]
    assert fences[0].content == "rows.sort(\n"


def test_a_reply_cut_inside_a_code_block_in_a_list_adds_no_fence() -> None:
    # The list item ends the code at the next unindented line; a fence added at the margin
    # would open a new code block that swallows the rest.
    cut = "- Steps:\n\n  ```sh\n  make ins"
    text = conversation_markdown(_loose_records(cut, "after"), title="Cut")
    assert "  make ins\n\n_Interrupted" in text
    tokens = MarkdownIt("commonmark").parse(text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[-1].startswith("You · ")
    assert [t.content for t in tokens if t.type == "fence"] == ["make ins\n\n"]


def test_conversation_markdown_without_title_is_just_the_messages() -> None:
    text = conversation_markdown(_loose_records("Hi", "Bye"))
    assert not text.startswith("# ")
    assert text.startswith("### Assistant · ")
    assert "\n\nHi\n\n_Interrupted — the reply was cut off_\n\n### You · " in text
    assert text.endswith("Bye\n")


def test_all_chats_exclude_the_trash(db: Database, sample: Sample, tmp_path: Path) -> None:
    text = _export_text(db, tmp_path / "all.md", "md")
    assert _inline_texts(text, "h1") == [TITLE, "Second chat"]
    assert "In the trash" not in text and "deleted words" not in text
    assert "\n---\n" in text


def test_a_trashed_or_missing_chat_cannot_be_exported(
    db: Database, sample: Sample, tmp_path: Path
) -> None:
    for missing in (sample.trashed_id, 999):
        with pytest.raises(ExportError, match=f"no conversation {missing}"):
            export_chats(db, tmp_path / "x.json", "json", conversation_id=missing)
    assert not (tmp_path / "x.json").exists()


# ---- HTML ----------------------------------------------------------------------------------


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_and_never_carries_raw_html(
    db: Database, sample: Sample, tmp_path: Path
) -> None:
    page = _export_text(db, tmp_path / "chat.html", "html", sample.main_id)
    parsed = _Elements()
    parsed.feed(page)
    tags = [tag for tag, _ in parsed.tags]

    # Title, system prompt, message text, code, error and stats all held "<script>".
    assert "script" not in tags and "<script" not in page.lower()
    assert "img" not in tags  # neither the raw <img onerror> nor the Markdown image
    assert "javascript:" not in page
    assert not any(a.get("src") for _, a in parsed.tags)
    hrefs = [a["href"] for tag, a in parsed.tags if tag == "a"]
    assert hrefs == ["https://docs.python.org/3/"]
    meta = [a for tag, a in parsed.tags if tag == "meta"]
    assert any(a.get("http-equiv") == "Content-Security-Policy" for a in meta)

    shown_text = "".join(parsed.text)
    assert "<script>alert('title')</script>" in shown_text  # shown as text
    assert QUESTION in shown_text
    assert CODE in shown_text  # the code, highlighted but whole
    assert SYSTEM_PROMPT in shown_text
    assert "Error: The engine stopped <b>unexpectedly</b>." in shown_text
    assert CUT_ANSWER.strip() not in shown_text
    classes = [a["class"] for _, a in parsed.tags if (a.get("class") or "").startswith("message")]
    assert classes == ["message user", "message assistant", "message user", "message assistant"]


def test_html_of_all_chats_has_a_table_of_contents(
    db: Database, sample: Sample, tmp_path: Path
) -> None:
    page = _export_text(db, tmp_path / "all.html", "html")
    parsed = _Elements()
    parsed.feed(page)
    anchors = [a["href"] for tag, a in parsed.tags if tag == "a" and a["href"].startswith("#")]
    ids = [a["id"] for _, a in parsed.tags if a.get("class") == "chat"]
    assert anchors == ["#chat-1", "#chat-2"] and ids == ["chat-1", "chat-2"]
    assert "In the trash" not in page


# ---- JSON ----------------------------------------------------------------------------------


def test_json_holds_every_version_and_field(db: Database, sample: Sample, tmp_path: Path) -> None:
    document = json.loads(_export_text(db, tmp_path / "all.json", "json"))
    assert document["format"] == "hearth-chat" and document["version"] == 2
    main_chat, other = document["conversations"]  # pinned first
    assert main_chat["title"] == TITLE and other["title"] == "Second chat"
    assert main_chat["pinned"] is True and main_chat["system_prompt"] == SYSTEM_PROMPT
    by_id = {m["id"]: m for m in main_chat["messages"]}
    assert len(by_id) == 6
    assert main_chat["shown_path"][:2] == [sample.question_id, sample.answer_id]
    cut = by_id[sample.cut_answer_id]
    assert (cut["status"], cut["error"], cut["content"]) == (
        "interrupted",
        "Stopped by you",
        CUT_ANSWER,
    )
    assert by_id[sample.answer_id]["stats"]["prefill_tps"] == 812.25
    assert by_id[sample.edited_question_id]["parent_id"] is None
    assert sorted(m["status"] for m in by_id.values()).count("error") == 1
    assert main_chat["sampling"] == {"seed": 7, "temperature": 0.3, "top_k": 20}
    assert (main_chat["title_source"], other["title_source"]) == ("auto", "user")
    [failed] = [m for m in by_id.values() if m["status"] == "error"]
    assert failed["outside_view"] == sorted([sample.question_id, sample.answer_id])
    assert by_id[sample.answer_id]["outside_view"] == []


def test_format_follows_the_file_name() -> None:
    assert format_for_path(Path("a.MD")) == "md"
    assert format_for_path(Path("a.htm")) == "html"
    assert format_for_path(Path("a.json")) == "json"
    assert format_for_path(Path("backup")) == "json"


# ---- writing -------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = tmp_path / "exports"
    made.mkdir()
    return made


def test_write_replaces_the_old_file_whole_and_leaves_no_temp_file(folder: Path) -> None:
    target = folder / "out.md"
    target.write_text("old")
    write_atomically(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert [p.name for p in folder.iterdir()] == ["out.md"]


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600)])
def test_a_new_export_follows_the_umask(folder: Path, mask: int, expected: int) -> None:
    """Not mkstemp's private 0600, and not a fixed 0644 either: what any new file gets."""
    with umask(mask):
        write_atomically(folder / "chats.md", "# Chats\n")
    assert mode(folder / "chats.md") == expected


def test_an_export_written_over_a_file_keeps_that_files_mode(folder: Path) -> None:
    target = folder / "chats.md"
    target.write_text("old")
    target.chmod(0o664)
    with umask(0o022):
        write_atomically(target, "new")
    assert mode(target) == 0o664


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_gives_an_error_naming_the_path(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ExportError, match="not writable") as caught:
            write_atomically(folder / "chat.json", "{}")
    finally:
        folder.chmod(0o700)
    assert str(folder / "chat.json") in str(caught.value)


def test_permission_denied_gives_an_error_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root ignores folder permissions, so the refusal the OS would give is simulated here.
    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(errno.EACCES, "Permission denied")

    target = tmp_path / "chat.json"
    with monkeypatch.context() as patched, pytest.raises(ExportError) as caught:
        patched.setattr(atomic_write.os, "open", refuse)
        write_atomically(target, "{}")
    assert str(caught.value) == f"Cannot write {target}: the folder {tmp_path} is not writable."


def test_full_disk_keeps_the_old_file_and_says_so(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = folder / "chat.md"
    target.write_text("previous export")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ExportError, match="the disk is full") as caught:
        write_atomically(target, "x" * 10_000)
    assert str(target) in str(caught.value)
    assert target.read_text() == "previous export"
    assert [p.name for p in folder.iterdir()] == ["chat.md"]


def test_missing_folder_and_folder_as_target(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        write_atomically(tmp_path / "nope" / "chat.md", "x")
    with pytest.raises(ExportError, match="it is a folder"):
        write_atomically(tmp_path, "x")


# ---- command line --------------------------------------------------------------------------


@pytest.fixture
def home_sample() -> Sample:
    """The sample history in HEARTH_HOME's database, where `hearth` looks."""
    database = open_database(resolve_paths().ensure().database)
    try:
        return build_sample(database)
    finally:
        database.close()


def test_cli_export_each_format(
    home_sample: Sample, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(tmp_path / "all.md")]) == 0
    assert "Exported 2 chat(s), 6 message(s)" in capsys.readouterr().out
    assert _inline_texts((tmp_path / "all.md").read_text(encoding="utf-8"), "h1")[0] == TITLE

    out = tmp_path / "one.txt"
    args = ["export", "--format", "html", "--conversation", str(home_sample.other_id), str(out)]
    assert main(args) == 0
    assert "<title>Second chat</title>" in out.read_text(encoding="utf-8")

    assert main(["export", str(tmp_path / "all.json")]) == 0
    document = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    assert sum(len(c["messages"]) for c in document["conversations"]) == 8


def test_cli_export_errors_are_one_line(
    home_sample: Sample, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["export", str(tmp_path / "missing" / "x.md")]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"hearth: error: Cannot write {tmp_path / 'missing' / 'x.md'}: "
        f"the folder {tmp_path / 'missing'} does not exist.\n"
    )
    assert main(["export", "--conversation", str(home_sample.trashed_id), "x.md"]) == 1
    assert "is in the trash" in capsys.readouterr().err


def test_cli_export_loads_neither_qt_nor_the_model(home_sample: Sample, tmp_path: Path) -> None:
    probe = (
        "import sys; from app.entry import main; code = main(sys.argv[1:]); "
        "heavy = {m.split('.')[0] for m in sys.modules} & {'PySide6', 'llama_cpp'}; "
        "print(code, sorted(heavy))"
    )
    out = tmp_path / "all.html"
    result = subprocess.run(
        [sys.executable, "-c", probe, "export", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0 []"
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
