"""HTML of one transcript message: header, rendered body, footer. Pure functions (no Qt);
the GUI thread calls them while filling the ChatView's document."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from storage.records import MessageRecord, MessageStatus, Role
from ui.chat.stats_format import SEP, FirstTokenTimes, stats_footer_text
from ui.markdown.render import render_markdown

# A reply's times to first token by message id (the app reads them from its stored trace).
FirstTokenSource = Callable[[int], FirstTokenTimes | None]

# Mid grey stays readable on light and dark palettes alike.
MUTED = "#808080"

ROLE_NAMES = {Role.USER: "You", Role.ASSISTANT: "Assistant", Role.SYSTEM: "System"}

STATUS_NOTES = {
    MessageStatus.INTERRUPTED: "Interrupted — the reply was cut off",
    MessageStatus.STREAMING: "Still being written…",
    MessageStatus.DAMAGED: "This message could not be read; it was stored damaged.",
}


def copy_url(message_id: int) -> str:
    return f"hearth://copy/{message_id}"


def regenerate_url(message_id: int) -> str:
    return f"hearth://regenerate/{message_id}"


def timing_url(message_id: int) -> str:
    return f"hearth://timing/{message_id}"


def edit_url(message_id: int) -> str:
    return f"hearth://edit/{message_id}"


def version_url(message_id: int, step: int) -> str:
    return f"hearth://{'newer' if step > 0 else 'older'}/{message_id}"


def version_links(message: MessageRecord) -> list[str]:
    """ "‹ 2/3 ›" for a message with several versions; arrows only where there is one."""
    if message.version_count <= 1:
        return []
    older = f'<a href="{version_url(message.id, -1)}">‹ older</a>' if message.version > 1 else "‹"
    newer = (
        f'<a href="{version_url(message.id, 1)}">newer ›</a>'
        if message.version < message.version_count
        else "›"
    )
    return [f"{older} version {message.version}/{message.version_count} {newer}"]


def header_html(role: Role) -> str:
    name = ROLE_NAMES.get(role, str(role).title())
    return f'<p style="margin-top:0; margin-bottom:2px"><b>{escape(name)}</b></p>'


def status_note(message: MessageRecord) -> str | None:
    """The plain-words note for a message that did not complete normally, if any."""
    if message.status is MessageStatus.ERROR:
        return f"Error: {message.error}" if message.error else "Error: the reply failed"
    note = STATUS_NOTES.get(message.status)
    if note and message.error:
        note = f"{note} ({message.error})"
    return note


# Shown in place of the Copy link for a moment after it was clicked.
COPIED_TEXT = "Copied ✓"


def footer_html(
    message: MessageRecord,
    *,
    show_regenerate: bool,
    copied: bool = False,
    first_token: FirstTokenSource | None = None,
) -> str:
    """Grey small lines under a message: stats, status note, then the links (versions,
    Copy, Regenerate). The user's own messages only get the versions and Edit. `copied`:
    the message was just copied, so "Copied ✓" stands where the Copy link is.
    `first_token`: where the reply's times to first token come from (stats_format)."""
    if message.role is Role.USER:
        links = [*version_links(message), f'<a href="{edit_url(message.id)}">Edit</a>']
        return (
            f'<p style="margin-top:4px; margin-bottom:0; color:{MUTED}; font-size:small">'
            + SEP.join(links)
            + "</p>"
        )
    if message.role is not Role.ASSISTANT:
        return ""
    lines: list[str] = []
    if message.stats is not None:
        times = first_token(message.id) if first_token is not None else None
        lines.append(escape(stats_footer_text(message.stats, times)))
    note = status_note(message)
    if note:
        lines.append(f"<i>{escape(note)}</i>")
    copy = COPIED_TEXT if copied else f'<a href="{copy_url(message.id)}">Copy</a>'
    links = [*version_links(message), copy]
    if show_regenerate:
        links.append(f'<a href="{regenerate_url(message.id)}">Regenerate</a>')
    if message.stats is not None:  # a reply the engine wrote: where its time went
        links.append(f'<a href="{timing_url(message.id)}">Timing</a>')
    lines.append(SEP.join(links))
    return (
        f'<p style="margin-top:4px; margin-bottom:0; color:{MUTED}; font-size:small">'
        + "<br/>".join(lines)
        + "</p>"
    )


# Characters of one message the transcript renders. A 5 MB paste took about 3 s of Markdown
# and layout on the GUI thread; a reply at the longest reply length (32,768 tokens) stays
# well under this, so replies are never cut.
SHOWN_CHARS = 256 * 1024


def shown_part(content: str, limit: int = SHOWN_CHARS) -> tuple[str, int]:
    """The beginning of `content` the transcript shows (cut at a line end where one is near)
    and how many characters are left out."""
    if len(content) <= limit:
        return content, 0
    cut = content.rfind("\n", 0, limit)
    if cut < limit // 2:
        cut = limit
    return content[:cut], len(content) - cut


def message_html(
    message: MessageRecord,
    *,
    show_regenerate: bool,
    dark: bool,
    copied: bool = False,
    first_token: FirstTokenSource | None = None,
) -> str:
    """The whole message; a damaged row still shows whatever text it has. A huge one shows
    its beginning and says how much more is stored."""
    shown, left_out = shown_part(message.content)
    body = render_markdown(shown, dark=dark) if shown else ""
    if left_out:
        where = "Edit or export the chat" if message.role is Role.USER else "Copy or export it"
        body += (
            f'<p style="color:{MUTED}"><i>… and {left_out:,} more characters, not shown here '
            f"so the window stays fast. The whole message is stored: {where} to see all of "
            "it.</i></p>"
        )
    footer = footer_html(
        message, show_regenerate=show_regenerate, copied=copied, first_token=first_token
    )
    return header_html(message.role) + body + footer
