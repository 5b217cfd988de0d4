"""The context budget under the input: how much of the model's context the next request
would use (history + draft, counted by the engine with the model's own tokenizer)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


class ContextBudgetLabel(QLabel):
    """GUI thread only."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Context budget")
        # Warnings are a sentence long: wrap them rather than widen the window (which
        # squeezed the chat list to a sliver).
        self.setWordWrap(True)
        self.over_budget = False

    def show_budget(
        self, used: int, size: int, reply_room: int, *, trims: bool = False, at_least: bool = False
    ) -> None:
        """`trims`: the user's policy leaves older turns out instead of refusing.
        `at_least`: only part of a request too long for the context was counted."""
        self.over_budget = used >= size
        if at_least and self.over_budget:
            if trims:
                self.setText(
                    f"Next request: more than {size:,} tokens — older turns will be left out of "
                    "the model's view (marked in the chat)."
                )
            else:
                self.setText(
                    f"<span style='color:#c0392b'>Too long for the model's context: more than "
                    f"{size:,} tokens. Shorten the message or start a new chat.</span>"
                )
        elif trims and used + reply_room > size:
            self.setText(
                f"Next request: {used:,} of {size:,} tokens — older turns will be left out of "
                f"the model's view (marked in the chat)."
            )
        elif self.over_budget:
            self.setText(
                f"<span style='color:#c0392b'>Too long for the model's context: {used:,} of "
                f"{size:,} tokens. Shorten the message or start a new chat.</span>"
            )
        elif used + reply_room > size:
            self.setText(
                f"Next request: {used:,} of {size:,} tokens — only {size - used:,} left for the "
                f"reply."
            )
        else:
            self.setText(f"Next request: {used:,} of {size:,} tokens")

    def clear_budget(self) -> None:
        self.over_budget = False
        self.clear()
