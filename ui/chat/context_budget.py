"""The context line under the input: how much of the model's context the next request would
use (history + draft, counted by the engine with the model's own tokenizer), and the one
message about the context there is, if any. The app's context owner decides what it shows;
this only words it."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QLabel, QWidget

from ui.widgets.warning_text import show_warning

# Where the user picks what is left out when a chat outgrows the context (the combo box
# beside this line).
POLICY_CHOICE = "“When the chat outgrows the context”"


@dataclass(frozen=True)
class BudgetReading:
    """One count of the next request for the chat, draft and model on screen."""

    used: int  # tokens counted; a lower bound when not `complete`
    size: int  # the model's context size
    reply_room: int  # tokens the reply may take
    complete: bool = True  # everything the request sends was counted
    draft_only: bool = False  # the system prompt and the draft alone were counted
    has_draft: bool = True
    trims: bool = False  # the user's policy leaves older turns out instead of refusing
    # The size or the count is a guess (a remote server that does not say; issue 14).
    estimated: bool = False

    @property
    def over(self) -> bool:
        return self.used >= self.size

    @property
    def alone_too_long(self) -> bool:
        """The draft does not fit even without any history: no policy can help."""
        return self.over and self.draft_only


class ContextBudgetLabel(QLabel):
    """GUI thread only. Plain text; warnings in red."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Context budget")
        # Warnings are a sentence long: wrap them rather than widen the window (which
        # squeezed the chat list to a sliver).
        self.setWordWrap(True)
        self.over_budget = False

    def show_budget(
        self, reading: BudgetReading, *, refused: bool = False, figure_only: bool = False
    ) -> None:
        """`refused`: Send was just refused for this draft. `figure_only`: another message
        (the overflow question) says what to do, so this line only gives the figure."""
        self.over_budget = reading.over
        text, warning = budget_text(reading, refused=refused, figure_only=figure_only)
        show_warning(self, warning)  # a red for the palette, after a theme change too
        self.setText(text)

    def clear_budget(self) -> None:
        self.over_budget = False
        show_warning(self, False)
        self.clear()


def budget_text(
    reading: BudgetReading, *, refused: bool = False, figure_only: bool = False
) -> tuple[str, bool]:
    """The line's text and whether it is a warning. One message, one piece of advice."""
    size = f"{reading.size:,}"
    figure = (
        f"{reading.used:,} of {size} tokens" if reading.complete else f"more than {size} tokens"
    )
    if reading.estimated:
        figure += " (estimate)"
    if figure_only:
        return f"Next request: {figure}", False
    if reading.alone_too_long:
        what = f"This message alone is longer than the model's context ({figure})"
        advice = "Shorten it, or choose a larger context size on the Models page."
        return (
            f"Not sent: {what[0].lower()}{what[1:]}. {advice}" if refused else f"{what}. {advice}"
        ), True
    if reading.trims and (reading.over or reading.used + reading.reply_room > reading.size):
        return (
            f"Next request: {figure} — older turns will be left out of the model's view "
            "(marked in the chat).",
            False,
        )
    if reading.over:
        shorten = "shorten your message, " if reading.has_draft else ""
        return (
            f"Too long for the model's context: {figure}. Start a new chat, {shorten}or choose "
            f"under {POLICY_CHOICE} what to leave out.",
            True,
        )
    if reading.used + reading.reply_room > reading.size:
        left = reading.size - reading.used
        return f"Next request: {figure} — only {left:,} left for the reply.", False
    return f"Next request: {figure}", False
