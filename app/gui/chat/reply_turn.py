"""A reply turn: sending, asking the engine, streaming the reply in, and how it ends
(finished, stopped, failed, or a prompt too long for the context). A mixin of
ChatController (app/gui/chat/controller.py)."""

from __future__ import annotations

import time
from dataclasses import asdict

from PySide6.QtCore import QTimer, Signal

from app.chat.lazy_path import LazyPath
from app.chat.prompt_history import prompt_messages, prompt_turns
from app.chat.reply_sampling import chat_sampling
from app.chat.state_keys import chat_state_key
from app.chat.timing import time_to_first_token_ms
from app.chat.trace_record import GuiMarks, live_first_token
from app.gui.backend_switch import BackendSwitch
from app.gui.chat.context_state import CountInputs
from app.gui.chat.conversation_list import ConversationList
from app.gui.chat.reply_timing import ReplyTiming
from app.gui.chat.storage_errors import reports_storage_errors
from app.gui.chat.turn import Turn
from app.gui.session import EngineSession
from app.gui.settings_store import SettingsStore
from inference.backends.remote_errors import RemoteErrorKind
from inference.protocol import ChatMessage, Done, ErrorKind, Sampling, Work
from storage.errors import DatabaseError
from storage.records import MessageRecord, MessageStatus, Role, StatsRecord

# Failures that end a reply part-way through rather than refuse it.
BROKEN_OFF = frozenset(
    (RemoteErrorKind.INTERRUPTED, RemoteErrorKind.STALLED, RemoteErrorKind.MALFORMED)
)


class ReplyTurn(ReplyTiming, ConversationList):
    """Part of ChatController: the attributes below are set in its __init__."""

    replyRequested: Signal
    session: EngineSession
    store: SettingsStore
    client: BackendSwitch
    _flush_timer: QTimer
    _stats_timer: QTimer
    _closed: bool

    @property
    def generating(self) -> bool:
        return self._turn is not None

    @reports_storage_errors
    def send(self, text: str) -> None:
        pressed_at = time.perf_counter()  # Enter: where time to first token starts
        if not text.strip():
            return
        if self._turn is not None:
            self.window.show_error("Hearth is still answering. Stop the reply (Esc) first.")
            return
        if self.context.refuses(text):
            # Refused before storing: no overflow policy could make it fit, and the user
            # keeps the text in the box to shorten or split it.
            return
        if self._editing is not None:
            self._send_edit(text)
            return
        if (
            self.current_conversation is None
            or self.conversations.get(self.current_conversation) is None
        ):
            self.current_conversation = self.conversations.create().id
        conversation_id = self.current_conversation
        history = self.messages.active_path(conversation_id)
        parent = history[-1].id if history else None
        user = self.messages.add(conversation_id, Role.USER, text, parent_id=parent)
        self.window.message_input.clear()  # only now: the text is safely stored
        self._storage_recovered()  # a write worked: a storage error shown before is over
        if not history:  # automatic: a title the model suggests may still replace it
            self.conversations.set_automatic_title(conversation_id, _title_from(text))
        self._refresh_list()
        self.window.chat_view.append_message(user)
        self._generate(conversation_id, user, rerender=False, pressed_at=pressed_at)

    @reports_storage_errors
    def regenerate(self, message_id: int) -> None:
        pressed_at = time.perf_counter()
        if self._turn is not None:
            return
        old = self.messages.get(message_id)
        if old is None or old.role != Role.ASSISTANT or old.parent_id is None:
            return
        parent = self.messages.get(old.parent_id)
        if parent is None:
            return
        self._generate(
            old.conversation_id, parent, rerender=True, pressed_at=pressed_at, work=Work.REGENERATE
        )

    def stop(self) -> None:
        if self._turn is not None:
            self.client.cancel(self._turn.request_id)

    def _system_prompt(self, conversation_id: int | None) -> str | None:
        record = self.conversations.get(conversation_id) if conversation_id is not None else None
        # The chat's own system prompt, else the model's default one (Models page).
        prompt = record.system_prompt if record is not None else None
        return prompt or self.session.choices()[2]

    def model_sampling(self) -> tuple[Sampling, int]:
        """How replies sample and how long they may be before a chat's own values apply."""
        return self.session.choices()[1], self.store.settings.max_tokens

    def _reply_sampling(self, conversation_id: int | None) -> tuple[Sampling, int]:
        record = self.conversations.get(conversation_id) if conversation_id is not None else None
        return chat_sampling(*self.model_sampling(), record.sampling if record else {})

    def _with_system_prompt(
        self, conversation_id: int | None, messages: list[ChatMessage]
    ) -> list[ChatMessage]:
        prompt = self._system_prompt(conversation_id)
        return [ChatMessage("system", prompt), *messages] if prompt else messages

    def history_prompt(self, conversation_id: int, path: list[MessageRecord]) -> list[ChatMessage]:
        """What the model is sent for `path` of this chat, system prompt included."""
        return self._with_system_prompt(conversation_id, prompt_messages(path))

    @reports_storage_errors
    def _on_context_trimmed(self, request_id: int, dropped: tuple[int, ...]) -> None:
        turn = self._turn
        if turn is None or turn.request_id != request_id:
            return
        outside = {
            message_id
            for i in dropped
            if i < len(turn.prompt_ids)
            for message_id in turn.prompt_ids[i]
        }
        path = self.messages.active_path(turn.conversation_id)
        # Rows the model is never sent (an empty or failed reply, app.chat.prompt_history)
        # that lie among the dropped ones are outside its view too; left out of the set, one
        # would split the transcript's marker in two around it.
        sent = {message_id for ids in turn.prompt_ids for message_id in ids}
        positions = [i for i, m in enumerate(path) if m.id in outside]
        if positions:
            outside.update(m.id for m in path[: positions[-1]] if m.id not in sent)
        # Stored with the reply: the marker is still there after a restart.
        self.messages.set_outside_view(turn.message_id, frozenset(outside))
        if turn.conversation_id == self.current_conversation and turn.tokens == 0:
            # Started comes before any token: re-show the transcript with the marker.
            self.window.chat_view.set_messages(
                [m for m in path if m.id != turn.message_id], outside
            )
            self.window.chat_view.begin_reply(turn.message_id)

    @reports_storage_errors
    def _answer_overflow(self, policy: str) -> None:
        refused = self.context.take_overflow()
        if refused is None or self._turn is not None:
            return
        conversation_id, parent_id = refused
        parent = self.messages.get(parent_id)
        if parent is not None and conversation_id == self.current_conversation:
            self._generate(conversation_id, parent, rerender=True, overflow=policy)

    def _count_inputs(self) -> CountInputs | None:
        """What the next request of the chat on screen is made of; None while it cannot be
        counted (no model, or a reply is being written: counted again when it ends)."""
        info = self.session.info
        if info is None or self._turn is not None or self._closed:
            return None
        conversation_id = self.current_conversation
        # Lazy: only the newest messages that could fit are read and counted (budget_probe).
        history = (
            LazyPath(self.messages, conversation_id, self._unsaved.shown)
            if conversation_id is not None
            else []
        )
        return CountInputs(
            conversation_id,
            history,
            self._system_prompt(conversation_id),
            info.n_ctx,
            self._reply_sampling(conversation_id)[1],
            trims=self.store.settings.context_policy != "ask",
            # A server that does not say its context size, or counts by a guessed template.
            estimated=info.n_ctx_estimated or self.session.remote is not None,
        )

    def _generate(
        self,
        conversation_id: int,
        parent: MessageRecord,
        *,
        rerender: bool,
        overflow: str | None = None,
        pressed_at: float | None = None,
        work: Work = Work.CHAT,
    ) -> None:
        """`work`: what the engine measures drafting by (a regeneration copies more)."""
        pressed_at = time.perf_counter() if pressed_at is None else pressed_at
        self.context.reply_started()
        reply = self.messages.start_reply(conversation_id, parent.id)
        # Replies the database refused are shown and sent as the user saw them.
        path = [self._unsaved.shown(m) for m in self.messages.active_path(conversation_id)]
        if rerender:  # a regenerated reply replaces the old one on screen
            shown = [m for m in path if m.id != reply.id]
            outside = self.messages.outside_view(conversation_id, [m.id for m in shown])
            self.window.chat_view.set_messages(shown, outside)
        self.window.chat_view.begin_reply(reply.id)
        self.window.speed_plot.clear_points()  # the last reply's curve goes as this one starts
        # What the model should see: failed and empty replies left out (app.chat.prompt_history).
        turns = prompt_turns(m for m in path if m.id != reply.id)
        prompt = self._with_system_prompt(conversation_id, [t.message for t in turns])
        prompt_ids = [t.ids for t in turns]
        if len(prompt) > len(turns):
            prompt_ids.insert(0, (-1,))  # the system prompt has no message row
        # No engine (first use after a crash, or a failed load): start a fresh one.
        self.session.restart()
        sampling, max_tokens = self._reply_sampling(conversation_id)
        self.replyRequested.emit(conversation_id)
        request_id = self.client.generate(
            prompt,
            max_tokens=max_tokens,
            sampling=sampling,
            overflow=overflow or self.store.settings.context_policy,
            # The engine keeps this chat's KV state on disk and restores it when the chat is
            # continued after a restart or another chat (issue 13).
            state_key=chat_state_key(conversation_id),
            work=work,
        )
        self._turn = Turn(
            request_id,
            conversation_id,
            reply.id,
            pressed_at,
            prompt_ids=prompt_ids,
            parent_id=parent.id,
            reply=next((m for m in path if m.id == reply.id), reply),
        )
        self.window.set_generating(True)
        self._flush_timer.start()
        self._stats_timer.start()

    def _on_started(self, request_id: int, prompt_tokens: int, n_ctx: int) -> None:
        turn = self._turn
        if turn is not None and turn.request_id == request_id:
            turn.prompt_tokens, turn.n_ctx = prompt_tokens, n_ctx
            self._show_live_stats()

    def _on_delta(self, request_id: int, text: str, n_tokens: int) -> None:
        turn = self._turn
        if turn is None or turn.request_id != request_id:
            return
        now = time.perf_counter()
        if turn.first_token_at is None:
            turn.first_token_at = now
        turn.speed.add(now, n_tokens)
        turn.tokens += n_tokens
        turn.parts.append(text)
        if turn.conversation_id == self.current_conversation:  # else it is saved, not shown
            self._coalescer.push(text)

    @reports_storage_errors
    def _flush_partial(self) -> None:
        turn = self._turn
        if turn is None:
            return
        text = turn.text
        if len(text) != turn.flushed_len:
            try:
                self.messages.update_partial(turn.message_id, text)
            except DatabaseError as exc:
                # Said once, not every second; the next flush tries again with all the text.
                if self._storage_error is None:
                    self._report_storage_error(exc)
                return
            turn.flushed_len = len(text)
            self._storage_recovered()

    def _show_live_stats(self) -> None:
        turn = self._turn
        if turn is None:
            return
        now = time.perf_counter()
        tps = ttft = None
        if turn.first_token_at is not None:
            if turn.first_paint_at is not None:
                ttft = time_to_first_token_ms(turn.sent_at, turn.first_paint_at)
            elapsed = now - turn.first_token_at
            tps = (turn.tokens - 1) / elapsed if turn.tokens > 1 and elapsed > 0 else None
        self.window.live_stats.show_live(tps, ttft, turn.prompt_tokens + turn.tokens, turn.n_ctx)
        self.window.speed_plot.show_points(turn.speed.sample(now))

    def _end_turn(self) -> Turn | None:
        self._coalescer.flush()  # first: its last text is this turn's last paint
        turn, self._turn = self._turn, None
        self._flush_timer.stop()
        self._stats_timer.stop()
        if turn is not None:  # the curve up to the end stays, frozen, until the next reply
            self.window.speed_plot.show_points(turn.speed.sample(time.perf_counter()))
            self.window.speed_plot.freeze()
        self.window.set_generating(False)
        return turn

    @reports_storage_errors
    def _on_finished(self, request_id: int, done: Done) -> None:
        if self._turn is None or self._turn.request_id != request_id:
            return
        turn = self._end_turn()
        assert turn is not None
        if done.stats.stop_reason == ErrorKind.CANCELLED and not done.text:
            self._drop_unanswered(turn)
            return
        stats = StatsRecord(**asdict(done.stats))
        marks = GuiMarks(turn.sent_at, turn.first_paint_at, turn.last_paint_at)
        trace = self._trace_record(done.trace, marks, done.server)
        record = self._finish_reply(
            turn, done.text, MessageStatus.COMPLETE, stats=stats, trace=trace
        )
        first = live_first_token(done.trace, marks)
        self.first_tokens.remember(record.id, first)
        self._show_finished(record)
        self.window.live_stats.show_final(
            stats, stats.prompt_tokens + stats.completion_tokens, first.shown_ms, first.engine_ms
        )
        self.context.recount()
        if record.id not in self._unsaved:  # else once it is stored (_save_unsaved)
            self.replyFinished.emit(record.id)

    def _drop_unanswered(self, turn: Turn) -> None:
        """The user stopped the reply before its first token (often while the engine was
        busy with a summary): no reply row is kept. An empty reply shown as an error would be
        noise, and the user's message stays, so sending again or editing it asks again; a
        reply cut off by a crash, by contrast, is kept and says why."""
        self.messages.discard_reply(turn.message_id)
        if turn.conversation_id == self.current_conversation:
            self._show_conversation(turn.conversation_id)  # the empty reply goes from view
            # A grey line, not stored: gone the next time the chat is shown.
            self.window.chat_view.show_notice("Stopped before the reply began.")
        self.context.recount()

    def _show_finished(self, record: MessageRecord) -> None:
        if record.conversation_id == self.current_conversation:
            self.window.chat_view.finish_reply(record)

    @reports_storage_errors
    def _on_failed(self, request_id: int, kind: str, message: str) -> None:
        plain = message.split("\n", 1)[0]
        turn = self._turn
        if turn is not None and turn.request_id == request_id:
            self._end_turn()
            if kind == ErrorKind.CANCELLED and not turn.text:
                self._drop_unanswered(turn)
                return
            # A reply that broke off mid-way (a server that died, stalled or garbled its
            # stream, issue 14) keeps its text as interrupted, as after a local crash.
            status = (
                MessageStatus.INTERRUPTED
                if turn.text and kind in BROKEN_OFF
                else MessageStatus.ERROR
            )
            record = self._finish_reply(turn, turn.text, status, error=plain)
            self._show_finished(record)
            on_screen = turn.conversation_id == self.current_conversation
            if kind == "prompt_too_long" and len(turn.prompt_ids) > 1 and on_screen:
                self.context.ask_overflow(
                    turn.conversation_id,
                    turn.parent_id,
                    f"{plain} Hearth can leave older turns out of the model's view (they stay "
                    "in your history, marked in the transcript). Answer again:",
                )
            elif kind != "prompt_too_long":
                # Too long: the reply says why in the transcript, the context line what to do.
                self.window.show_error(plain)
            self.context.recount()

    @reports_storage_errors
    def _on_crashed(self, reason: str) -> None:
        """The engine died (the session has forgotten its model): the reply being written
        ends interrupted, its text so far kept, and the window says why."""
        self.context.model_changed()
        self.window.hide_loading()
        turn = self._turn
        if turn is not None:
            self._end_turn()
            record = self._finish_reply(turn, turn.text, MessageStatus.INTERRUPTED, error=reason)
            self._show_finished(record)
        self.window.set_model_info("no model loaded", "", "engine stopped")
        self.window.show_error(
            f"{reason} Your chat is saved. The next message starts the engine again."
        )


def _title_from(text: str, limit: int = 48) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
