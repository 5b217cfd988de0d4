"""The kept states' disk budget changed while the engine runs (issue 13): the Models page's
"Kept conversation states" budget reaches the engine at once, not at its next load."""

from __future__ import annotations

from inference.process.kv_state import KVStateKeeper
from inference.protocol import SetStateBudget, StateBudgetSet


def apply_state_budget(kept: KVStateKeeper | None, request: SetStateBudget) -> StateBudgetSet:
    """Main thread, between requests. With no model loaded nothing is kept here to shrink
    (the app evicts the folder itself, and the next load brings the budget)."""
    if kept is None:
        return StateBudgetSet(request.id, 0, 0)
    removed = kept.set_budget(request.budget_bytes)
    return StateBudgetSet(request.id, kept.files.budget_bytes, removed)
