"""One answered API request (app.server.request_log.ServedRequest) worded for the dialog's log.
The figures are the server's own, defined in app/server/timings.py: `ttft_ms` from the checked
body to the first token reaching the server, `decode_tps` the engine's decode speed."""

from __future__ import annotations

import time
from http import HTTPStatus

from app.server.request_log import ServedRequest
from ui.server.request_log import LogRow

CLIENT_GONE = 499


def status_text(status: int) -> str:
    if status == CLIENT_GONE:
        return "499 client left"
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def log_row(served: ServedRequest, model: str, when: float | None = None) -> LogRow:
    """`model`: the name clients use for the window's model ("" when none is loaded);
    `when`: the answer's time (time.time(); now when None)."""
    endpoint = served.path + (" (stream)" if served.stream else "")
    return LogRow(
        time=time.strftime("%H:%M:%S", time.localtime(when)),
        endpoint=endpoint,
        model=model,
        prompt_tokens=_count(served.prompt_tokens),
        completion_tokens=_count(served.completion_tokens),
        first_token=f"{served.ttft_ms:,.0f} ms" if served.ttft_ms is not None else "",
        speed=f"{served.decode_tps:,.1f} tok/s" if served.decode_tps else "",
        status=status_text(served.status),
        detail=served.error or "",
    )


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"
