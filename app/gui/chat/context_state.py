"""The one owner of what the chat page says about the model's context.

Three things used to speak about it on their own — the budget line under the input, the
error bar (a refused send, the engine refusing a prompt) and the overflow question — and none
was recomputed when its cause went away, so four messages could stand at once and a figure
could follow into another chat. Now the controller reports every change of chat, draft,
model or turn here, and this object alone decides what is shown:

- what is shown belongs to the chat, draft and model on screen: a change of chat or model
  clears it at once (a late count for the old state is dropped), then it is counted again;
- at most one message about the context: the overflow question while it asks (the line under
  the input then gives the figure only), else the line under the input;
- a refused send is said on that line and lasts as long as that draft.

GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer

from app.chat.budget_probe import BudgetPlan, BudgetProbe
from app.gui.backend_switch import BackendSwitch
from inference.client import EngineClient
from storage.records import MessageRecord
from ui.chat.context_budget import BudgetReading, ContextBudgetLabel
from ui.chat.context_policy import OverflowQuestion
from ui.chat.message_input import MessageInput

BUDGET_DEBOUNCE_MS = 300  # count once typing pauses, not on every key press


@dataclass(frozen=True)
class CountInputs:
    """What the next request of the chat on screen is made of (from the controller)."""

    conversation_id: int | None
    history: Sequence[MessageRecord]  # may be lazy: only slices from the end are read
    system_prompt: str | None
    n_ctx: int
    reply_room: int
    trims: bool
    # The context size or the counts are a guess (a server that does not say; issue 14).
    estimated: bool = False


@dataclass(frozen=True)
class _Overflow:
    conversation_id: int
    parent_id: int  # the user message the refused reply answered
    text: str


class ContextState(QObject):
    def __init__(
        self,
        client: EngineClient | BackendSwitch,
        label: ContextBudgetLabel,
        question: OverflowQuestion,
        draft_box: MessageInput,
        inputs: Callable[[], CountInputs | None],
        parent: QObject | None = None,
    ) -> None:
        """`inputs` describes the next request now, or None while nothing can be counted (no
        model loaded, or a reply is being written)."""
        super().__init__(parent)
        self._client = client
        self._label = label
        self._question = question
        self._draft_box = draft_box
        self._inputs = inputs
        self._timer = QTimer(self, interval=BUDGET_DEBOUNCE_MS, singleShot=True)
        self._timer.timeout.connect(self._count)
        self._request: int | None = None
        self._plan: BudgetPlan | None = None
        self._probe: BudgetProbe | None = None
        self._counted_for: CountInputs | None = None
        self._reading: BudgetReading | None = None
        self._oversized_draft: str | None = None  # a draft counted as too long on its own
        self._refused = False  # Send was refused for `_oversized_draft`
        self._overflow: _Overflow | None = None
        draft_box.textChanged.connect(self._draft_changed)
        question.dismissed.connect(self.dismiss_overflow)
        client.tokensCounted.connect(self._counted)

    # ---- changes the controller reports ---------------------------------------------------

    def chat_changed(self) -> None:
        """Another chat is on screen: nothing said about the previous one stays."""
        self._overflow = None
        self._forget()
        self.recount()

    def model_changed(self) -> None:
        """The model (and with it the context size and tokenizer) changes or went away."""
        self._forget()
        self.recount()

    def recount(self) -> None:
        """Something the next request is made of changed (a turn ended, a policy, system
        prompt or reply length changed): count again once things settle."""
        self._timer.start()

    def stop(self) -> None:
        """Shutdown: no late count may start anything."""
        self._timer.stop()
        self._request = None

    # ---- sending --------------------------------------------------------------------------

    def refuses(self, draft: str) -> bool:
        """True when `draft` must not be sent: it was counted as too long on its own (no
        policy can make it fit). Says so on the context line; the text stays in the box."""
        if draft != self._oversized_draft or self._reading is None:
            return False
        self._refused = True
        self._show()
        return True

    def reply_started(self) -> None:
        """A request went out: the question and any refusal are answered."""
        self._overflow = None
        self._refused = False
        self._show()

    def ask_overflow(self, conversation_id: int, parent_id: int, text: str) -> None:
        """The engine refused this chat's request as too long under the "ask" policy."""
        self._overflow = _Overflow(conversation_id, parent_id, text)
        self._show()
        self.recount()

    def take_overflow(self) -> tuple[int, int] | None:
        """The refused (conversation, user message) the question was about, once."""
        overflow, self._overflow = self._overflow, None
        self._show()
        return None if overflow is None else (overflow.conversation_id, overflow.parent_id)

    def dismiss_overflow(self) -> None:
        self._overflow = None
        self._show()

    # ---- counting -------------------------------------------------------------------------

    def _forget(self) -> None:
        self._request = None
        self._plan = self._probe = None
        self._counted_for = None
        self._reading = None
        self._oversized_draft = None
        self._refused = False
        self._show()

    def _draft_changed(self) -> None:
        draft = self._draft_box.toPlainText()
        if self._reading is not None and self._reading.alone_too_long and not draft.strip():
            self._forget()  # "this message is too long" with no message: gone at once
        elif self._refused and draft != self._oversized_draft:
            self._refused = False  # its cause, that draft, is gone
            self._show()
        self.recount()

    def _count(self) -> None:
        inputs = self._inputs()
        if inputs is None:
            return  # counted again when the model is ready or the reply has ended
        self._counted_for = inputs
        self._plan = BudgetPlan(
            inputs.history, inputs.system_prompt, self._draft_box.toPlainText(), inputs.n_ctx
        )
        self._send_probe()

    def _send_probe(self) -> None:
        assert self._plan is not None
        probe = self._probe = self._plan.probe()
        if not probe.messages:
            self._request = None
            self._reading = None
            self._oversized_draft = None
            self._show()
            return
        self._request = self._client.count_prompt(probe.messages)

    def _counted(self, request_id: int, count: int) -> None:
        probe, plan, inputs = self._probe, self._plan, self._counted_for
        if request_id != self._request or probe is None or plan is None or inputs is None:
            return  # a count for a chat, draft or model no longer on screen
        self._request = None
        if not probe.complete and count < inputs.n_ctx:
            plan.widen()  # what was counted still fits: count more of the chat
            self._send_probe()
            return
        self._reading = BudgetReading(
            used=count,
            size=inputs.n_ctx,
            reply_room=inputs.reply_room,
            complete=probe.complete,
            draft_only=probe.draft_only,
            has_draft=bool(plan.draft.strip()),
            trims=inputs.trims,
            estimated=inputs.estimated,
        )
        oversized = plan.draft if self._reading.alone_too_long else None
        if oversized != self._oversized_draft:
            self._refused = False
        self._oversized_draft = oversized
        self._show()

    # ---- the one place that shows it --------------------------------------------------------

    def _show(self) -> None:
        overflow = self._overflow
        if overflow is None:
            self._question.hide()
        elif self._question.isHidden() or self._question.label.text() != overflow.text:
            self._question.ask(overflow.text)  # only when new: asking moves the focus
        if self._reading is None:
            self._label.clear_budget()
            return
        self._label.show_budget(
            self._reading, refused=self._refused, figure_only=overflow is not None
        )
