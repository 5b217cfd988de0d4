"""Killing the engine process in the middle of a reply, as a crash of llama.cpp would, and
checking what the user is left with: the window up, the reply's text so far saved and marked
interrupted, and the next message answered by a fresh engine (issue 15, "Reliability").

Drives the real window the way a person does (keys into the message box), with no pytest
needed: tests/reliability/ and bench/reliability.py run the same `kill_engine_once`.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel

from app.gui.chat.controller import ChatController
from storage.chats import MessageRepository
from storage.records import MessageStatus, Role
from tests.support.model_templates import CHATML_TEMPLATE
from tests.support.tiny_gguf import build_tiny_model
from ui.chat.message_html import STATUS_NOTES
from ui.main_window import MainWindow

SIGNALS = (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT)
# When the kill is sent: before the first token (as the request leaves the window, or when the
# engine says it began the prompt), at a random delay within the reply, or right after the
# k-th piece of text reached the window.
MOMENTS = ("before_first_token", "delay", "after_delta")
BEFORE_FIRST_TOKEN = ("request_sent", "prompt_started")
# The tiny model (seed 0, greedy) rambles on "hello world" for ~2,900 tokens; the chat's
# context must hold that, the next message and max_tokens (see RAMBLING_SETTINGS).
PROMPT = "hello world"
NEXT_PROMPT = "again"


def pump_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Run the Qt event loop until `condition()` holds; TimeoutError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout_s:.0f} s for {what}")
        QApplication.processEvents()
        time.sleep(0.002)  # a poll: the engine's events arrive through the event loop


def type_and_send(window: MainWindow, text: str) -> None:
    QTest.keyClicks(window.message_input, text)
    QTest.keyClick(window.message_input, Qt.Key.Key_Return)


def new_chat(window: MainWindow) -> None:
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)


def error_text(window: MainWindow) -> str:
    return " ".join(label.text() for label in window.error_bar.findChildren(QLabel))


# Settings for the tiny model (build_kill_model) under which every reply is long enough to be
# killed at random moments and the next message still fits the context.
RAMBLING_SETTINGS: dict[str, object] = {"n_ctx": 8192, "max_tokens": 2000, "temperature": 0.0}


def build_kill_model(path: Path) -> Path:
    """The suite's tiny ChatML model, with room for RAMBLING_SETTINGS' context."""
    return build_tiny_model(path, chat_template=CHATML_TEMPLATE, context_length=16384)


@dataclass
class ReplyShape:
    """One full reply to PROMPT in a new chat, timed from Enter: where its kills may land.

    `first_token_s`: Enter to the first text reaching the window; `duration_s`: Enter to the
    reply's end; `deltas`: how many pieces of text reached the window."""

    first_token_s: float
    duration_s: float
    deltas: int


def measure_reply(
    window: MainWindow, controller: ChatController, timeout_s: float, prompt: str = PROMPT
) -> ReplyShape:
    """Let one reply to `prompt` run to its end in a new chat (greedy sampling makes every
    later reply to it the same)."""
    new_chat(window)
    times: list[float] = []

    def on_delta(_request_id: int, _text: str, _n: int) -> None:
        times.append(time.monotonic())

    finished: list[int] = []
    controller.client.deltaReceived.connect(on_delta)
    controller.replyFinished.connect(finished.append)
    try:
        sent = time.monotonic()
        type_and_send(window, prompt)
        pump_until(lambda: bool(finished), timeout_s, "a full reply")
        ended = time.monotonic()
    finally:
        controller.client.deltaReceived.disconnect(on_delta)
        controller.replyFinished.disconnect(finished.append)
    if not times:
        raise RuntimeError("the reply had no text")
    return ReplyShape(times[0] - sent, ended - sent, len(times))


@dataclass(frozen=True)
class KillPlan:
    signal: signal.Signals
    moment: str  # one of MOMENTS
    delay_s: float = 0.0  # delay
    after_deltas: int = 0  # after_delta
    point: str = ""  # before_first_token: one of BEFORE_FIRST_TOKEN


def plan_kills(runs: int, shape: ReplyShape, rng: random.Random) -> list[KillPlan]:
    """Every signal with every kind of moment, evenly; the moments drawn at random within the
    first 60% of a reply of `shape` (so the kill lands while it streams, even when a busy
    machine makes this reply faster than the measured one)."""
    plans: list[KillPlan] = []
    for i in range(runs):
        sig = SIGNALS[i % len(SIGNALS)]
        moment = MOMENTS[(i // len(SIGNALS)) % len(MOMENTS)]
        if moment == "before_first_token":
            plans.append(KillPlan(sig, moment, point=rng.choice(BEFORE_FIRST_TOKEN)))
        elif moment == "delay":
            plans.append(KillPlan(sig, moment, delay_s=rng.uniform(0, 0.6 * shape.duration_s)))
        else:
            last = max(1, int(0.6 * shape.deltas))
            plans.append(KillPlan(sig, moment, after_deltas=rng.randint(1, last)))
    return plans


@dataclass
class KillOutcome:
    plan: KillPlan
    mid_reply: bool = False  # the reply was still being written when the kill was sent
    text_before_kill: int = 0  # characters on screen when the kill was sent
    window_up: bool = False
    interrupted_saved: bool = False
    next_answered: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.window_up and self.interrupted_saved and self.next_answered


def kill_engine_once(
    window: MainWindow,
    controller: ChatController,
    messages: MessageRepository,
    plan: KillPlan,
    timeout_s: float = 60.0,
    prompt: str = PROMPT,
) -> KillOutcome:
    """In a new chat: send `prompt`, kill the engine at the planned moment, check what is shown
    and stored, then send NEXT_PROMPT and check a fresh engine answers it."""
    outcome = KillOutcome(plan)
    new_chat(window)
    received: list[str] = []
    killed: list[int] = []

    def kill() -> None:
        if killed:
            return
        pid = controller.client.pid
        if pid is None:
            outcome.problems.append("no engine process to kill")
            killed.append(0)
            return
        # At "request_sent" the reply's row exists but the turn is not yet recorded.
        outcome.mid_reply = controller.generating or plan.point == "request_sent"
        outcome.text_before_kill = len("".join(received))
        os.kill(pid, plan.signal)
        killed.append(pid)

    def on_delta(_request_id: int, text: str, _n: int) -> None:
        received.append(text)
        if plan.moment == "after_delta" and len(received) == plan.after_deltas:
            kill()

    def on_sent(_conversation: int) -> None:
        if plan.point == "request_sent":
            kill()

    def on_started(_request_id: int, _prompt_tokens: int, _n_ctx: int) -> None:
        if plan.point == "prompt_started":
            kill()

    client = controller.client
    hooks = (
        (client.deltaReceived, on_delta),
        (controller.replyRequested, on_sent),
        (client.generationStarted, on_started),
    )
    for signal_, slot in hooks:
        signal_.connect(slot)
    try:
        type_and_send(window, prompt)
        conversation = controller.current_conversation
        if plan.moment == "delay":
            QTimer.singleShot(round(plan.delay_s * 1000), kill)
        pump_until(lambda: bool(killed), timeout_s, "the kill")
        if killed == [0]:
            return outcome
        name = plan.signal.name
        pump_until(
            lambda: not controller.generating and name in error_text(window),
            timeout_s,
            f"the window to report {name}",
        )
    finally:
        for signal_, slot in hooks:
            signal_.disconnect(slot)
    outcome.window_up = window.isVisible() and window.send_button.text() == "Send"
    if not outcome.window_up:
        outcome.problems.append("the window is not ready for the next message")
    assert conversation is not None
    reply = messages.active_path(conversation)[-1]
    streamed = "".join(received)
    shown = window.chat_view.toPlainText()
    if not outcome.mid_reply:
        outcome.problems.append("the kill landed after the reply had ended")
    elif reply.role != Role.ASSISTANT or reply.status != MessageStatus.INTERRUPTED:
        outcome.problems.append(f"the reply is stored {reply.role.value}/{reply.status.value}")
    elif reply.content != streamed:
        outcome.problems.append(
            f"stored {len(reply.content)} characters of the {len(streamed)} shown"
        )
    elif STATUS_NOTES[MessageStatus.INTERRUPTED] not in shown:
        outcome.problems.append("the window does not show the reply as interrupted")
    else:
        outcome.interrupted_saved = True
    outcome.next_answered = _next_message_answered(
        window, controller, messages, conversation, killed[0], outcome, timeout_s
    )
    return outcome


def _next_message_answered(
    window: MainWindow,
    controller: ChatController,
    messages: MessageRepository,
    conversation: int,
    killed_pid: int,
    outcome: KillOutcome,
    timeout_s: float,
) -> bool:
    finished: list[int] = []
    controller.replyFinished.connect(finished.append)
    try:
        type_and_send(window, NEXT_PROMPT)
        pump_until(lambda: bool(finished), timeout_s, "the answer to the next message")
    except TimeoutError as exc:
        outcome.problems.append(str(exc))
        return False
    finally:
        controller.replyFinished.disconnect(finished.append)
    reply = messages.get(finished[0])
    if reply is None or reply.conversation_id != conversation:
        outcome.problems.append("the next reply is not in the chat")
        return False
    if reply.status != MessageStatus.COMPLETE or not reply.content:
        outcome.problems.append(f"the next reply is {reply.status.value}, {len(reply.content)} ch")
        return False
    if controller.client.pid in (None, killed_pid):
        outcome.problems.append("the next reply did not come from a fresh engine")
        return False
    return True
