"""An answered request worded for the API server dialog's log."""

from __future__ import annotations

from app.gui.server.log_rows import log_row
from app.server.request_log import ServedRequest


def test_a_reply_and_a_refusal_are_worded_for_the_log() -> None:
    reply = ServedRequest(
        "POST", "/v1/chat/completions", 200, stream=True, prompt_tokens=1234,
        completion_tokens=64, ttft_ms=85.4, decode_tps=41.26, total_ms=1600.0, finish="length",
    )  # fmt: skip
    row = log_row(reply, "gemma-3-270m", when=0)
    assert row.endpoint == "/v1/chat/completions (stream)" and row.model == "gemma-3-270m"
    assert (row.prompt_tokens, row.completion_tokens) == ("1,234", "64")
    assert (row.first_token, row.speed, row.status) == ("85 ms", "41.3 tok/s", "200 OK")

    refused = log_row(ServedRequest("POST", "/v1/completions", 429, error="busy"), "")
    assert (refused.prompt_tokens, refused.first_token, refused.speed) == ("", "", "")
    assert refused.status == "429 Too Many Requests" and refused.detail == "busy"
    gone = log_row(ServedRequest("POST", "/v1/completions", 499, stream=True), "m")
    assert gone.status == "499 client left"
