"""Killing the whole app (SIGKILL) in the middle of a reply, and checking what the next start
finds (issue 15, "Reliability"): the database intact, at most about a second of streamed text
lost, the reply shown as interrupted, and no engine process left behind.

Each run starts tests/support/app_driver.py on one data folder, lets it send PROMPT, kills it
at a random moment of the reply, then checks; the next run's start is the "next start" that
must show the killed reply as interrupted (a last start checks the last run's reply).
tests/reliability/ and bench/reliability.py both use `AppKiller`.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from app.config.settings import Settings, save_settings
from tests.support.engine_kills import PROMPT

REPO_ROOT = Path(__file__).resolve().parents[2]
# How long an engine may outlive its killed app before it counts as left running.
ORPHAN_GRACE_S = 5.0


@dataclass(frozen=True)
class Delta:
    t: float  # time.monotonic() when the text reached the window
    text: str


def read_log(path: Path) -> list[dict[str, Any]]:
    """The driver's events; a line the kill cut short is left out."""
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def lost_seconds(deltas: list[Delta], stored: str, killed_at: float) -> float:
    """Streamed text lost by the kill, in seconds of streaming: from the moment the first
    piece of text missing from the store reached the window to the kill; 0 when every piece
    shown before the kill is stored."""
    shown = 0
    for delta in deltas:
        if delta.t > killed_at:
            break
        shown += len(delta.text)
        if shown > len(stored):
            return killed_at - delta.t
    return 0.0


@dataclass
class AppKillOutcome:
    delay_s: float  # from the driver logging "sent" to the kill
    # The reply had not ended when the kill was sent: not stored complete (the controller
    # stores a reply complete before it says so, so the driver's "finished" can come late).
    mid_reply: bool = True
    streamed_chars: int = 0  # text that reached the window before the kill
    stored_chars: int = 0
    lost_s: float = 0.0
    integrity_ok: bool = False
    stored_is_prefix: bool = False  # the stored text is the start of what was shown
    engines_left: list[int] = field(default_factory=list)  # children alive after the grace
    shown_interrupted: bool | None = None  # filled by the next start
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            self.integrity_ok
            and self.stored_is_prefix
            and not self.engines_left
            # A reply that ended before the kill is shown complete, rightly.
            and (bool(self.shown_interrupted) or not self.mid_reply)
        )


class AppKiller:
    """Runs the driver on one data folder (`home`), one kill after another."""

    def __init__(
        self, home: Path, model: Path, settings: dict[str, object], prompt: str = PROMPT
    ) -> None:
        self.home = home
        self.prompt = prompt
        self.home.mkdir(parents=True, exist_ok=True)
        save_settings(home / "settings.json", Settings(model_path=str(model), **settings))  # type: ignore[arg-type]
        self.env = {
            **os.environ,
            "HEARTH_HOME": str(home),
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPATH": str(REPO_ROOT),
        }
        self._runs = 0
        self.last_reply: int | None = None
        self._last_outcome: AppKillOutcome | None = None

    def _start(self, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
        self._runs += 1
        log = self.home / f"driver-{self._runs:04d}.jsonl"
        command = [sys.executable, "-m", "tests.support.app_driver", "--log", str(log), *args]
        if self.last_reply is not None:
            command += ["--check-reply", str(self.last_reply)]
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(log.with_suffix(".stderr"), "wb"),  # noqa: SIM115 - the child holds it
        )
        return process, log

    def _wait_for(
        self, process: subprocess.Popen[bytes], log: Path, event: str, timeout_s: float
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while True:
            events = read_log(log) if log.exists() else []
            if any(e["event"] == event for e in events):
                return events
            if process.poll() is not None:
                raise RuntimeError(f"the app ended before {event!r}: see {log}.stderr")
            if time.monotonic() > deadline:
                process.kill()
                raise TimeoutError(f"waited {timeout_s:.0f} s for {event!r}: see {log}")
            time.sleep(0.005)  # a poll of the driver's log

    def _take_previous(self, events: list[dict[str, Any]]) -> None:
        """The start just made shows the last run's reply: fill in its outcome."""
        previous = [e for e in events if e["event"] == "previous"]
        if self._last_outcome is None or not previous:
            return
        shown = previous[0]["status"] == "interrupted" and previous[0]["shown_interrupted"]
        self._last_outcome.shown_interrupted = shown
        if shown != self._last_outcome.mid_reply:
            self._last_outcome.problems.append(f"next start showed {previous[0]}")

    def measure_reply(self, timeout_s: float = 120.0) -> float:
        """One whole reply to the prompt, the app closed normally after it: seconds from "sent"
        to its last text."""
        process, log = self._start("--send", self.prompt, "--finish")
        events = self._wait_for(process, log, "finished", timeout_s)
        process.wait(timeout_s)
        self._take_previous(events)
        self._last_outcome = None
        self.last_reply = None
        sent = next(e["t"] for e in events if e["event"] == "sent")
        last = [e["t"] for e in events if e["event"] == "delta"][-1]
        return last - sent

    def kill_once(self, delay_s: float, timeout_s: float = 120.0) -> AppKillOutcome:
        """Start the app, send the prompt, SIGKILL the app `delay_s` after it logged "sent"."""
        outcome = AppKillOutcome(delay_s)
        process, log = self._start("--send", self.prompt)
        events = self._wait_for(process, log, "sent", timeout_s)
        self._take_previous(events)
        sent = next(e for e in events if e["event"] == "sent")
        while time.monotonic() < sent["t"] + delay_s:
            time.sleep(0.001)  # a poll of the clock: the kill's moment
        children = psutil.Process(process.pid).children(recursive=True)
        killed_at = time.monotonic()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout_s)
        outcome.engines_left = _still_running(children, ORPHAN_GRACE_S)
        if outcome.engines_left:
            outcome.problems.append(f"processes left running: {outcome.engines_left}")
            for pid in outcome.engines_left:
                os.kill(pid, signal.SIGKILL)
        events = read_log(log)
        deltas = [Delta(e["t"], e["text"]) for e in events if e["event"] == "delta"]
        shown = "".join(d.text for d in deltas if d.t <= killed_at)
        outcome.integrity_ok, stored, status = _check_database(
            self.home / "hearth.db", sent["reply"]
        )
        outcome.mid_reply = status != "complete"
        if not outcome.integrity_ok:
            outcome.problems.append("integrity_check failed")
        outcome.streamed_chars, outcome.stored_chars = len(shown), len(stored)
        outcome.stored_is_prefix = "".join(d.text for d in deltas).startswith(stored)
        if not outcome.stored_is_prefix:
            outcome.problems.append("the stored text is not what was shown")
        outcome.lost_s = lost_seconds(deltas, stored, killed_at)
        self.last_reply, self._last_outcome = sent["reply"], outcome
        return outcome

    def last_start(self, timeout_s: float = 120.0) -> None:
        """A start that only looks at the last run's reply, then closes the window."""
        process, log = self._start()
        self._wait_for(process, log, "previous", timeout_s)
        process.wait(timeout_s)
        self._take_previous(read_log(log))


def _still_running(processes: list[psutil.Process], grace_s: float) -> list[int]:
    """The pids of `processes` still running after `grace_s` (zombies count as gone: only
    their exit status is left, for a parent that no longer exists)."""
    deadline = time.monotonic() + grace_s
    while True:
        alive = []
        for process in processes:
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(process.pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)  # a poll: the engine notices its parent's death on its own


def _check_database(path: Path, reply_id: int) -> tuple[bool, str, str]:
    """`PRAGMA integrity_check` on the file the killed app left, and the reply's stored text
    and status, read as the next start would (the WAL included)."""
    connection = sqlite3.connect(path)
    try:
        ok = connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        row = connection.execute("SELECT content, status FROM messages WHERE id = ?", (reply_id,))
        found = row.fetchone()
        return (ok, "", "") if found is None else (ok, found[0], found[1])
    finally:
        connection.close()
