"""The context budget under the input: how much of the model's context the next request
would use (history + draft, counted by the engine with the model's own tokenizer)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


class ContextBudgetLabel(QLabel):
    """GUI thread only."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Context budget")
        self.over_budget = False

    def show_budget(self, used: int, size: int, reply_room: int) -> None:
        self.over_budget = used >= size
        if self.over_budget:
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
