"""Exporting chats: Markdown (readable, the shown branch), one self-contained HTML file, and
Hearth JSON (every message of every branch, lossless; docs/chat-json-schema.md).

Pure functions plus one file write; no Qt. Any thread may call them (the GUI runs them on a
worker thread for big histories; the CLI calls them directly).
"""

from __future__ import annotations

import errno
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any, Literal

from app.util.atomic_write import write_atomic
from app.util.markdown_blocks import read_blocks
from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.records import ConversationRecord, MessageRecord, Role, StatsRecord
from ui.chat.message_html import ROLE_NAMES, status_note
from ui.chat.stats_format import SEP, stats_footer_text
from ui.markdown.render import render_markdown

FORMAT_NAME = "hearth-chat"
FORMAT_VERSION = 2  # 2 added a chat's sampling and title_source, a reply's outside_view

ExportFormat = Literal["md", "json", "html"]
FORMATS: tuple[ExportFormat, ...] = ("md", "json", "html")
_SUFFIX_FORMATS: dict[str, ExportFormat] = {
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
}


class ExportError(Exception):
    """The export could not be written; the message names the path and says why."""


@dataclass(frozen=True)
class ChatExport:
    """One conversation as exported: every message (all versions) and the shown branch."""

    conversation: ConversationRecord
    messages: list[MessageRecord]
    shown: list[MessageRecord]
    # reply id → messages its model could not see (the context was full)
    outside: dict[int, frozenset[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    conversations: int
    messages: int


def format_for_path(path: Path) -> ExportFormat:
    """The format a file name asks for (.md, .html, else JSON)."""
    return _SUFFIX_FORMATS.get(path.suffix.lower(), "json")


# ---- reading -------------------------------------------------------------------------------


Progress = Callable[[int, int], None]  # (done, total); may raise to stop the export


def collect(
    db: Database, conversation_id: int | None = None, progress: Progress | None = None
) -> list[ChatExport]:
    """One conversation, or all that are not in the trash (pinned first, then newest);
    `progress` hears about each one read."""
    conversations = ConversationRepository(db)
    if conversation_id is None:
        records = conversations.list_recent()
    else:
        found = conversations.get(conversation_id)
        if found is None:
            raise ExportError(
                f"There is no conversation {conversation_id} (or it is in the trash)."
            )
        records = [found]
    messages = MessageRepository(db)
    exports: list[ChatExport] = []
    for record in records:
        shown_ids, versions = messages.shown_path(record.id)
        everything = messages.get_many(sorted(versions))
        by_id = {m.id: m for m in everything}
        shown = [by_id[i] for i in shown_ids if i in by_id]
        exports.append(ChatExport(record, everything, shown, messages.outside_views(record.id)))
        if progress is not None:
            progress(len(exports), len(records))
    return exports


# ---- Markdown ------------------------------------------------------------------------------


def _close_open_fence(text: str) -> str:
    """A reply cut off inside a code block would swallow the rest of the document; close it."""
    open_fence = read_blocks(text).open_fence
    return text if open_fence is None else text.rstrip("\n") + "\n" + open_fence


def _local_time(moment: datetime) -> str:
    return moment.astimezone().isoformat(sep=" ", timespec="minutes")


def _one_line(text: str) -> str:
    return " ".join(text.split())


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_<\[\]])")


def _plain(text: str) -> str:
    """Plain text (a title, an error) made to show as written in Markdown: never as markup,
    never as raw HTML (a viewer might run a "<script>" in a title)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _role_name(role: Role) -> str:
    return ROLE_NAMES.get(role, str(role).title())


def _footer_lines(message: MessageRecord) -> list[str]:
    lines: list[str] = []
    if message.stats is not None:
        lines.append(stats_footer_text(message.stats))
    note = status_note(message)
    if note:
        lines.append(_one_line(note))
    return lines


def _title(title: str) -> str:
    return _one_line(title) or "Untitled chat"


def conversation_markdown(records: Sequence[MessageRecord], *, title: str | None = None) -> str:
    """The messages as Markdown: a heading per message (who, when), the text as written
    (code blocks kept), then the timings and any status note in italics."""
    parts: list[str] = [f"# {_plain(_title(title))}"] if title is not None else []
    for message in records:
        parts.append(f"### {_role_name(message.role)} · {_local_time(message.created_at)}")
        if message.content.strip():
            parts.append(_close_open_fence(message.content.strip("\n")))
        parts.extend(f"_{_plain(line)}_" for line in _footer_lines(message))
    return "\n\n".join(parts) + "\n"


def _markdown_chat(chat: ChatExport) -> str:
    record = chat.conversation
    head = (
        f"# {_plain(_title(record.title))}\n\n"
        f"_Started {_local_time(record.created_at)}{SEP}"
        f"last active {_local_time(record.updated_at)}_\n\n"
    )
    if record.system_prompt:
        quoted = "\n".join(f"> {_plain(line)}" for line in record.system_prompt.splitlines())
        head += f"> **System prompt**\n>\n{quoted}\n\n"
    return head + conversation_markdown(chat.shown)


def markdown_document(chats: Sequence[ChatExport]) -> str:
    # Blank lines around the rule: right under a paragraph "---" would make it a heading.
    return "\n---\n\n".join(_markdown_chat(chat) for chat in chats)


# ---- HTML ----------------------------------------------------------------------------------

# The page may not load or run anything: message HTML is already escaped, this is the backstop.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_STYLE = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto;
       padding: 0 1rem; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
.meta, .footer, .contents { color: #6e6e73; font-size: .85rem; }
.system-prompt { border-left: 3px solid #c7c7cc; padding-left: .8rem; white-space: pre-wrap; }
.message { margin: 1.2rem 0; padding: .6rem .9rem; border-radius: 8px; }
.message.user { background: #eef3fb; }
.message.assistant { background: #f7f7f7; }
.message .who { font-size: .85rem; color: #6e6e73; margin: 0 0 .3rem; }
.message .who b { color: #1d1d1f; }
.message .footer { margin: .3rem 0 0; }
.body pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.body table[bgcolor] { background: rgba(128,128,128,.12); border-radius: 6px; }
.chat + .chat { border-top: 1px solid #d2d2d7; margin-top: 2.5rem; }
"""


def _time_html(moment: datetime) -> str:
    stamp = escape(moment.astimezone(UTC).isoformat(), quote=True)
    return f'<time datetime="{stamp}">{escape(_local_time(moment))}</time>'


def _message_html(message: MessageRecord) -> str:
    # render_markdown escapes raw HTML, keeps only http(s)/mailto links and drops images.
    body = render_markdown(message.content) if message.content else ""
    footer = "<br>".join(escape(line) for line in _footer_lines(message))
    role_class = message.role.value if message.role in ROLE_NAMES else "other"
    # Plain div and p (not section/header/footer): Qt's rich text, too, shows them as blocks.
    return (
        f'<div class="message {role_class}"><p class="who"><b>'
        f"{escape(_role_name(message.role))}</b>{SEP}{_time_html(message.created_at)}</p>"
        f'<div class="body">{body}</div>'
        + (f'<p class="footer">{footer}</p>' if footer else "")
        + "</div>"
    )


def _chat_html(chat: ChatExport, anchor: str) -> str:
    record = chat.conversation
    parts = [
        f'<div class="chat" id="{anchor}"><h1>{escape(_title(record.title))}</h1>',
        f'<p class="meta">Started {_time_html(record.created_at)}{SEP}'
        f"last active {_time_html(record.updated_at)}</p>",
    ]
    if record.system_prompt:
        parts.append(
            f'<p class="system-prompt"><b>System prompt</b><br>{escape(record.system_prompt)}</p>'
        )
    parts.extend(_message_html(m) for m in chat.shown)
    parts.append("</div>")
    return "\n".join(parts)


def html_document(chats: Sequence[ChatExport]) -> str:
    """One self-contained page: inline styles, no scripts, nothing loaded from anywhere."""
    if len(chats) == 1:
        page_title = _title(chats[0].conversation.title)
    else:
        page_title = f"Hearth chats ({len(chats)})"
    anchors = [f"chat-{n}" for n in range(1, len(chats) + 1)]
    toc = ""
    if len(chats) > 1:
        items = "".join(
            f'<li><a href="#{a}">{escape(_title(c.conversation.title))}</a></li>'
            for a, c in zip(anchors, chats, strict=True)
        )
        toc = f'<div class="contents"><ol>{items}</ol></div>\n'
    body = "\n".join(_chat_html(c, a) for c, a in zip(chats, anchors, strict=True))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="Hearth">\n'
        f"<title>{escape(page_title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"{toc}{body}\n</body>\n</html>\n"
    )


# ---- Hearth JSON ---------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _stats_json(stats: StatsRecord | None) -> dict[str, Any] | None:
    if stats is None:
        return None
    # JSON has no NaN or infinity; such a value (never expected) is written as null.
    return {
        k: None if isinstance(v, float) and not math.isfinite(v) else v
        for k, v in asdict(stats).items()
    }


def _message_json(message: MessageRecord, outside: frozenset[int]) -> dict[str, Any]:
    return {
        "id": message.id,
        "parent_id": message.parent_id,
        "role": message.role.value,
        "content": message.content,
        "status": message.status.value,
        "error": message.error,
        "created_at": _stamp(message.created_at),
        "updated_at": _stamp(message.updated_at),
        "stats": _stats_json(message.stats),
        "outside_view": sorted(outside),
    }


def _chat_json(chat: ChatExport) -> dict[str, Any]:
    record = chat.conversation
    return {
        "title": record.title,
        "created_at": _stamp(record.created_at),
        "updated_at": _stamp(record.updated_at),
        "pinned": record.pinned,
        "system_prompt": record.system_prompt,
        "sampling": dict(sorted(record.sampling.items())),
        "title_source": record.title_source.value,
        "shown_path": [m.id for m in chat.shown],
        "messages": [_message_json(m, chat.outside.get(m.id, frozenset())) for m in chat.messages],
    }


def json_document(chats: Sequence[ChatExport], *, exported_at: datetime | None = None) -> str:
    payload = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "exported_at": _stamp(exported_at or datetime.now(UTC)),
        "conversations": [_chat_json(chat) for chat in chats],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def render(chats: Sequence[ChatExport], fmt: ExportFormat) -> str:
    if fmt == "md":
        return markdown_document(chats)
    if fmt == "html":
        return html_document(chats)
    return json_document(chats)


# ---- writing -------------------------------------------------------------------------------


def _write_problem(path: Path, error: OSError) -> str:
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"Cannot write {path}: the folder {path.parent} is not writable."
    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"Cannot write {path}: the disk is full."
    return f"Cannot write {path}: {error.strerror or error}."


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so that a reader sees the old file or the whole new one, never
    half of it: a temporary file in the same folder, flushed to disk, then renamed over."""
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"Cannot write {path}: it is a folder; choose a file name.")
    if not path.parent.is_dir():
        raise ExportError(f"Cannot write {path}: the folder {path.parent} does not exist.")
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise ExportError(_write_problem(path, exc)) from exc


def export_chats(
    db: Database,
    path: Path,
    fmt: ExportFormat,
    *,
    conversation_id: int | None = None,
    progress: Progress | None = None,
) -> ExportSummary:
    """Export one conversation (or all not in the trash) to `path`. Raises ExportError.
    Raising from `progress` (called per conversation read) stops it with the old file, if
    any, untouched: the file is written only at the end, atomically."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r} (use one of {', '.join(FORMATS)}).")
    chats = collect(db, conversation_id, progress)
    write_atomically(path, render(chats, fmt))
    count = sum(len(c.messages if fmt == "json" else c.shown) for c in chats)
    return ExportSummary(Path(path), len(chats), count)
