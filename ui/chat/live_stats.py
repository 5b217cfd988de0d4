"""Generation speed in the status bar. GUI thread only; the app calls it from its
(throttled) timing updates and when a reply ends."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from storage.records import StatsRecord
from ui.chat.stats_format import (
    TTFT_MEANING,
    final_stats_text,
    final_stats_tooltip,
    live_stats_text,
)
from ui.widgets.eliding_label import PartsLabel


def _is_context(_index: int, part: str) -> bool:
    return part.startswith("context ")


class LiveStatsLabel(PartsLabel):
    """Shows ``14.2 tok/s · TTFT 310 ms · context 512 / 4096`` while a reply streams. Short
    of room, the least important figures (the last ones) are left out, never the context
    figure."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent, pinned=_is_context)
        # It shares the status bar with the model line: its figures end at the right edge.
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setAccessibleName("Generation statistics")

    def show_live(
        self, tokens_per_s: float | None, ttft_ms: float | None, ctx_used: int, ctx_size: int
    ) -> None:
        """`ttft_ms`: Enter → the reply's first text painted (None until then)."""
        self.setText(live_stats_text(tokens_per_s, ttft_ms, ctx_used, ctx_size))
        self.setToolTip(TTFT_MEANING if ttft_ms is not None else "")

    def show_final(
        self,
        stats: StatsRecord,
        ctx_used: int,
        ttft_ms: float | None = None,
        engine_ttft_ms: float | None = None,
    ) -> None:
        """`ttft_ms`: Enter → first paint; `engine_ttft_ms`: its engine part (None: not
        measured; the stats' own prefill-to-first-token figure is shown instead)."""
        times = (ttft_ms, engine_ttft_ms)
        self.setText(final_stats_text(stats, ctx_used, times))
        self.setToolTip(final_stats_tooltip(stats, times))

    def clear_stats(self) -> None:
        self.clear()
        self.setToolTip("")
