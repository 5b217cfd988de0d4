"""The engine's own record of the requests it served: what a bug report or a test needs to
know about the work really done (tokens in, tokens evaluated, tokens out, why it stopped,
how often a chat turn paused it), kept inside the engine process.

Always on and small: the last `KEEP` requests, numbers only, in memory, answered to a
RequestLogRequest. With HEARTH_REQUEST_LOG set to a file path the engine also keeps the
prompt and reply text and appends every record to that file as one JSON line, for
debugging; nothing is ever sent anywhere.
"""

from __future__ import annotations

import json
import os
import sys
from collections import deque
from dataclasses import asdict
from pathlib import Path

from inference.protocol import RequestRecord

KEEP = 256
ENV = "HEARTH_REQUEST_LOG"


class RequestLog:
    def __init__(self, path: Path | None = None, keep: int = KEEP) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=keep)
        self._path = path

    @classmethod
    def from_environment(cls) -> RequestLog:
        value = os.environ.get(ENV, "").strip()
        if not value:
            return cls()
        path = Path(value).expanduser()
        if not path.is_absolute():
            # The engine's working folder is nobody's business: say so instead of guessing.
            print(f"{ENV} must be an absolute file path; got {value!r}.", file=sys.stderr)
            return cls()
        return cls(path)

    @property
    def keeps_text(self) -> bool:
        return self._path is not None

    def add(self, record: RequestRecord) -> None:
        self._records.append(record)
        if self._path is not None:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                with self._path.open("a", encoding="utf-8") as file:
                    file.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
            except OSError as exc:  # a debugging aid must never stop the engine
                print(f"Cannot write the request log {self._path}: {exc}", file=sys.stderr)
                self._path = None

    def records(self) -> tuple[RequestRecord, ...]:
        return tuple(self._records)


def read_log_file(path: Path) -> list[RequestRecord]:
    """The records a HEARTH_REQUEST_LOG file holds, oldest first."""
    with path.open(encoding="utf-8") as file:
        return [RequestRecord(**json.loads(line)) for line in file if line.strip()]
