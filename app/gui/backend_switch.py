"""BackendSwitch: the one client an engine session hands its presenters, in front of the local
engine (inference/client.py EngineClient) and, while a model on a server is chosen, a remote
one (app/gui/remote_client.py RemoteClient). Chat, context meter, titles and EngineBridge's
jobs connect to its signals once and send through it; the session (app/gui/session.py) alone
decides which backend answers (issue 14: "Backends behind one interface").

Both backends' signals come through, always: a request still finishing on the backend left
behind ends as usual, and every receiver already matches events by request id. The ids never
collide (remote ones start at remote_client.REMOTE_IDS), which is also how `cancel` finds the
backend a request went to. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal, SignalInstance

from app.gui.remote_client import REMOTE_IDS, RemoteClient
from inference.client import EngineClient
from inference.protocol import ChatMessage, EngineSettings, KeptStates, Priority, Sampling

# The signals both backends have (inference/client.py says what each carries).
SIGNALS = (
    "loadProgressed",
    "modelLoaded",
    "generationStarted",
    "contextTrimmed",
    "deltaReceived",
    "prefillProgressed",
    "generationPreempted",
    "generationFinished",
    "tokensCounted",
    "tokenCountsReceived",
    "requestFailed",
    "engineCrashed",
    "benchProgressed",
    "benchFinished",
)


class BackendSwitch(QObject):
    loadProgressed = Signal(int, float, str)
    modelLoaded = Signal(int, object)
    generationStarted = Signal(int, int, int)
    contextTrimmed = Signal(int, object)
    deltaReceived = Signal(int, str, int)
    prefillProgressed = Signal(int, int, int)
    generationPreempted = Signal(int, int)
    generationFinished = Signal(int, object)
    tokensCounted = Signal(int, int)
    tokenCountsReceived = Signal(int, object)
    requestFailed = Signal(int, str, str)
    engineCrashed = Signal(str)  # the local engine process died
    benchProgressed = Signal(int, object)
    benchFinished = Signal(int, object)

    def __init__(self, local: EngineClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.local = local
        self.remote: RemoteClient | None = None  # answers while set
        _relay(local, self)

    # ---- which backend (the session's) ----------------------------------------------------

    def use_remote(self, remote: RemoteClient) -> None:
        """Send from now on to `remote` (the one before, if any, is shut down: its reply was
        stopped when the switch was announced)."""
        self._drop_remote()
        self.remote = remote
        _relay(remote, self)

    def use_local(self) -> None:
        self._drop_remote()

    def _drop_remote(self) -> None:
        old, self.remote = self.remote, None
        if old is not None:
            old.shutdown()
            for name in SIGNALS:
                getattr(old, name).disconnect(getattr(self, name))
            old.deleteLater()

    @property
    def active(self) -> EngineClient | RemoteClient:
        return self.remote if self.remote is not None else self.local

    # ---- the local engine process ------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.local.running

    @property
    def pid(self) -> int | None:
        return self.local.pid

    def load(self, settings: EngineSettings, kept_states: KeptStates | None = None) -> int:
        return self.local.load(settings, kept_states)

    def bench(self, n_prompt: int, n_gen: int, depth: int = 0, seed: int = 0) -> int:
        return self.active.bench(n_prompt, n_gen, depth, seed)

    def warm(self, messages: Sequence[ChatMessage], state_key: str, typing: str = "") -> int | None:
        """EngineClient.warm while the local engine answers; None while a server does (it
        keeps no states Hearth could restore, nor reads a message ahead)."""
        if self.remote is not None:
            return None
        return self.local.warm(messages, state_key, typing)

    # ---- requests: to the backend in use ---------------------------------------------------

    def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        sampling: Sampling | None = None,
        stop: Sequence[str] = (),
        priority: Priority = Priority.INTERACTIVE,
        overflow: str = "fail",
        state_key: str = "",
        work: str = "",
        drafting: str = "auto",
    ) -> int:
        return self.active.generate(
            messages,
            max_tokens=max_tokens,
            sampling=sampling,
            stop=stop,
            priority=priority,
            overflow=overflow,
            state_key=state_key,
            work=work,
            drafting=drafting,
        )

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int = 512,
        sampling: Sampling | None = None,
        stop: Sequence[str] = (),
        state_key: str = "",
        priority: Priority = Priority.BACKGROUND,
        work: str = "",
    ) -> int:
        return self.active.complete(
            prompt,
            max_tokens=max_tokens,
            sampling=sampling,
            stop=stop,
            state_key=state_key,
            priority=priority,
            work=work,
        )

    def count_tokens(self, text: str) -> int:
        return self.active.count_tokens(text)

    def count_tokens_many(self, texts: Sequence[str]) -> int:
        return self.active.count_tokens_many(texts)

    def count_prompt(self, messages: Sequence[ChatMessage]) -> int:
        return self.active.count_prompt(messages)

    def cancel(self, request_id: int) -> None:
        if request_id < REMOTE_IDS:
            self.local.cancel(request_id)
        elif self.remote is not None:
            self.remote.cancel(request_id)

    def shutdown(self) -> None:
        """Both backends, for good; safe to call more than once."""
        self._drop_remote()
        self.local.shutdown()


def _relay(source: EngineClient | RemoteClient, target: BackendSwitch) -> None:
    for name in SIGNALS:
        signal: SignalInstance = getattr(source, name)
        signal.connect(getattr(target, name))
