"""One reply's figures as the Performance page shows them, and the table's columns: what
each column is headed, says in its tooltip, shows as text and sorts by. The table, its CSV
export and the tests all read COLUMNS, so the file holds what the table shows. Qt-free."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

BLANK = ""  # a figure not recorded, or computed from too little data to mean something


@dataclass(frozen=True)
class ReplyFigures:
    """One reply's row. None: not recorded for this reply, or left out because it would be
    computed from too little data (the presenter decides, by app.chat.timing's rules)."""

    message_id: int
    title: str
    date: datetime  # when the reply was asked for, aware
    model: str
    quantization: str | None
    gpu_layers_requested: int | None
    gpu_layers_actual: int | None
    n_ctx: int
    depth_at_start: int  # tokens in the context when decoding began: the whole prompt
    evaluated: int  # prompt tokens evaluated, not reused from the cache
    completion_tokens: int
    ttft_ms: float | None
    ttft_from_enter: bool  # Enter -> first paint; False: the engine's part only (older reply)
    prefill_tps: float | None
    decode_tps: float | None
    stop_reason: str


def _int(value: int | None) -> str:
    return BLANK if value is None else str(value)


def _speed(value: float | None) -> str:
    if value is None:
        return BLANK
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _date(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Column:
    header: str
    sort_key: str  # a storage.performance SORT_KEYS name or a trace phase name
    text: Callable[[ReplyFigures], str]
    tooltip: str
    numeric: bool = True
    sample: str = ""  # a typical value, for the column's width when the page opens


COLUMNS: tuple[Column, ...] = (
    Column(
        "Date",
        "date",
        lambda f: _date(f.date),
        "When the reply was asked for",
        False,
        "2026-12-31 23:59",
    ),
    Column("Chat", "title", lambda f: f.title, "The chat's title", False, "A chat's title, …"),
    Column(
        "Model",
        "model",
        lambda f: f.model,
        "The model that wrote the reply",
        False,
        "gemma-3-270m-it-Q4_K_M",
    ),
    Column(
        "TTFT ms",
        "ttft_ms",
        lambda f: BLANK if f.ttft_ms is None else f"{f.ttft_ms:.0f}",
        "Time to first token, ms: from Enter to the first token painted. Replies recorded before "
        "timing traces show the engine's part only (its tooltip says so)",
    ),
    Column(
        "Prefill t/s",
        "prefill_tps",
        lambda f: _speed(f.prefill_tps),
        "Prefill speed, tokens/s: evaluated prompt tokens ÷ prefill time (blank when too few "
        "tokens were evaluated to time)",
    ),
    Column(
        "Decode t/s",
        "decode_tps",
        lambda f: _speed(f.decode_tps),
        "Decode speed, tokens/s: tokens after the first ÷ time from the first to the last "
        "token (blank with fewer than two tokens)",
    ),
    Column(
        "Depth",
        "depth_at_start",
        lambda f: str(f.depth_at_start),
        "Context depth at the start of the reply: the tokens in the context when decoding started, "
        "i.e. the whole prompt (reused from the cache and evaluated alike)",
    ),
    Column(
        "Evaluated",
        "prompt_tokens_evaluated",
        lambda f: str(f.evaluated),
        "Prompt tokens evaluated by prefill; the rest of the prompt was reused from the cache",
    ),
    Column(
        "Reply tokens",
        "completion_tokens",
        lambda f: str(f.completion_tokens),
        "Tokens the model generated",
    ),
    Column(
        "Quant.",
        "quantization",
        lambda f: f.quantization or BLANK,
        "The model file's quantization (blank: not recorded, replies before timing traces)",
        False,
        "Q4_K_M",
    ),
    Column(
        "GPU asked",
        "n_gpu_layers",
        lambda f: _int(f.gpu_layers_requested),
        "GPU layers requested in the settings (-1: all of them)",
    ),
    Column(
        "GPU used",
        "n_gpu_layers_actual",
        lambda f: _int(f.gpu_layers_actual),
        "GPU layers llama.cpp actually offloaded (blank: not recorded)",
    ),
    Column("Context", "n_ctx", lambda f: str(f.n_ctx), "Context size, tokens"),
    Column("Stop", "stop_reason", lambda f: f.stop_reason, "Why the reply ended", False),
)


def row_texts(figures: ReplyFigures) -> list[str]:
    """The row as the table shows it, column by column."""
    return [column.text(figures) for column in COLUMNS]
