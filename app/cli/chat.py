"""`hearth chat PROMPT`: one message to a model, the reply streamed to stdout (or one JSON
object with --json); the stats on stderr. app/cli/main.py registers it."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.backend_options import BackendError, add_backend_options, check_backend_options
from app.cli.output import fail as _fail
from app.config.paths import resolve_paths
from app.config.settings import Settings, load_settings

if TYPE_CHECKING:
    from app.cli.chat_conversation import StoredTurn
    from inference.backends.remote import RemoteEngine
    from inference.protocol import (
        ChatMessage,
        Done,
        EngineSettings,
        KeptStates,
        ModelInfo,
        Sampling,
    )


def add_parser(commands: Any) -> argparse.ArgumentParser:
    chat = commands.add_parser("chat", help="send one message and stream the reply to stdout")
    chat.add_argument("prompt", help="the message to send")
    chat.add_argument("--model", type=Path, help="GGUF model file (default: the built-in model)")
    chat.add_argument(
        "--draft-model",
        type=Path,
        default=None,
        metavar="PATH",
        help="a smaller GGUF with the model's vocabulary that drafts tokens for it to verify "
        "(issue 13); one that cannot is left out with the reason, and prompt lookup drafts",
    )
    chat.add_argument("--max-tokens", type=int, default=None, help="longest reply, in tokens")
    chat.add_argument("--system", default=None, help="system prompt")
    chat.add_argument("--n-ctx", type=int, default=None, help="context size in tokens")
    chat.add_argument("--gpu-layers", type=int, default=None, help="layers to offload (-1 = all)")
    chat.add_argument("--temperature", type=float, default=None)
    chat.add_argument("--seed", type=int, default=None, help="sampling seed (repeatable output)")
    chat.add_argument("--json", action="store_true", help="print one JSON object at the end")
    chat.add_argument(
        "--conversation",
        type=int,
        default=None,
        metavar="ID",
        help="continue this stored conversation (its shown branch) and store the turn; "
        "ids: `hearth import`, `hearth export`",
    )
    chat.add_argument(
        "--drafting",
        choices=("auto", "on", "off"),
        default="auto",
        help="speculative decoding: auto (where this machine measured that it pays), "
        "on or off; --json shows what was drafted and accepted",
    )
    add_backend_options(chat)
    return chat


def _resolve_model(explicit: Path | None, settings: Settings) -> Path:
    """--model, else the settings' model, else the built-in model (assembled on first use)."""
    from app.models.default_model import ensure_default_model

    if explicit is not None:
        return explicit.expanduser()
    if settings.model_path:
        return Path(settings.model_path)
    return ensure_default_model(resolve_paths().ensure().models_dir)


def run(args: argparse.Namespace) -> int:
    from app.cli.chat_conversation import ConversationUnavailableError, StoredTurn
    from app.models.default_model import DefaultModelError
    from inference.protocol import ChatMessage, Sampling

    if not args.prompt.strip():
        return _fail("the message is empty")
    try:
        # Arguments that are not UTF-8 arrive as surrogates (PEP 383), which crash later.
        os.fsencode(args.prompt).decode("utf-8")
    except UnicodeDecodeError as exc:
        return _fail(
            f"the message is not UTF-8 text (byte {exc.start}); "
            "type it in a UTF-8 terminal or convert it (iconv -t UTF-8)"
        )
    if (problem := check_backend_options(args)) is not None:
        return _fail(problem, 2)
    if args.backend is not None and args.drafting != "auto":
        return _fail("--drafting is the local engine's: a server decodes in its own way", 2)
    if args.backend is not None and args.draft_model is not None:
        return _fail("--draft-model is the local engine's: a server drafts in its own way", 2)
    paths = resolve_paths().ensure()
    settings: Settings = load_settings(paths.settings_file)
    engine_settings: EngineSettings | None = None  # None: a remote server's model
    if args.backend is None:  # a remote backend: no local model is looked for, let alone loaded
        try:
            model_path = _resolve_model(args.model, settings)
        except DefaultModelError as exc:
            return _fail(str(exc))
        engine_settings = replace(
            settings.engine_settings(model_path),
            n_ctx=args.n_ctx or settings.n_ctx,
            n_gpu_layers=settings.n_gpu_layers if args.gpu_layers is None else args.gpu_layers,
            draft_model_path=str(args.draft_model.expanduser()) if args.draft_model else "",
        )
    sampling = Sampling(
        temperature=settings.temperature if args.temperature is None else args.temperature,
        top_p=settings.top_p,
        top_k=settings.top_k,
        min_p=settings.min_p,
        repeat_penalty=settings.repeat_penalty,
        seed=args.seed,
    )
    messages = [ChatMessage("user", args.prompt)]
    if args.system:
        messages.insert(0, ChatMessage("system", args.system))
    turn: StoredTurn | None = None
    if args.conversation is not None:
        try:
            turn = StoredTurn.open(args.conversation, args.system)
        except ConversationUnavailableError as exc:
            return _fail(str(exc))
        messages = turn.messages(args.prompt)
    # Conversations' KV states live beside the history (issue 13), within the window's budget.
    kept = settings.kept_states(paths.kv_states_dir, paths.draft_speeds_file)
    try:
        max_tokens = args.max_tokens or settings.max_tokens
        return _reply(args, engine_settings, sampling, messages, kept, turn, max_tokens)
    finally:
        if turn is not None:
            turn.close()


def _reply(
    args: argparse.Namespace,
    engine_settings: EngineSettings | None,
    sampling: Sampling,
    messages: list[ChatMessage],
    kept: KeptStates,
    turn: StoredTurn | None,
    max_tokens: int,
) -> int:
    """Send the chat, print the reply (and its JSON), store the turn of a stored chat."""
    from app.cli.chat_conversation import state_key
    from inference.protocol import Priority, Work
    from inference.sync_client import EngineError, SyncEngine

    def echo(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    key = state_key(turn.conversation_id) if turn is not None else ""
    if turn is not None:
        turn.begin(args.prompt)
    try:
        engine: SyncEngine | RemoteEngine
        if engine_settings is None:
            from app.cli.backend_options import open_remote

            engine = open_remote(args, model=args.model)
        else:
            engine = SyncEngine.start(engine_settings, kept_states=kept)
            _say_draft_note(args, engine.info)
        with engine:
            # Ctrl+C ends the reply (kept and reported), not the engine mid-write.
            previous = signal.signal(signal.SIGINT, lambda *_: engine.cancel())
            try:
                done = engine.chat(
                    messages,
                    max_tokens=max_tokens,
                    sampling=sampling,
                    priority=Priority.INTERACTIVE,
                    on_delta=None if args.json else echo,
                    state_key=key,
                    work=Work.CHAT,
                    drafting=args.drafting,  # only Hearth's own engine drafts
                )
            finally:
                signal.signal(signal.SIGINT, previous)
            info = engine.info
    except BackendError as exc:
        return _fail(str(exc))
    except EngineError as exc:
        from app.cli.remote_output import interrupted_reply

        if turn is not None:
            turn.fail(str(exc).splitlines()[0])
        # A remote reply that broke off keeps its text: --json prints it, marked interrupted.
        if args.json and (partial := interrupted_reply(exc)) is not None:
            print(json.dumps(partial, ensure_ascii=False))
        elif not args.json and getattr(exc, "partial", None) is not None:
            echo("\n")
        return _fail(str(exc).splitlines()[0])
    assert info is not None
    message_id = None
    if turn is not None:
        layers = engine_settings.n_gpu_layers if engine_settings is not None else 0
        message_id = turn.finish(done, info, layers)
    if args.json:
        payload: dict[str, Any] = {"text": done.text, **asdict(done.stats)}
        payload.update(
            backend=info.backend,
            model_path=info.path,
            quantization=info.quantization,
            chat_format_label=info.chat_format_label,
            chat_format_stops=list(info.chat_format_stops),
        )
        if turn is not None:
            payload.update(conversation_id=turn.conversation_id, message_id=message_id)
        if engine_settings is not None and engine_settings.draft_model_path:
            payload["draft_model"] = _draft_json(engine_settings.draft_model_path, info)
        if done.trace is not None:  # which drafter made the drafts ("" none ran)
            payload["drafter"] = done.trace.drafter
        if done.trace is not None:
            from app.chat.timing import timeline

            # This command loaded the model before asking: that load is its load_ms.
            payload["timeline"] = timeline(done.trace, load_ms=info.load_ms)
        if engine_settings is None:
            from app.cli.remote_output import remote_fields

            payload.update(remote_fields(done, info))
        print(json.dumps(payload, ensure_ascii=False))
    elif engine_settings is None:
        from app.cli.remote_output import remote_stats_line

        echo("\n")
        print(remote_stats_line(done), file=sys.stderr)
    else:
        echo("\n")
        s = done.stats
        # The engine's part of time to first token (receipt -> first token) where the trace
        # has it, else its prefill to first token (README, "What the numbers mean").
        first = done.trace.first_token_at_ms if done.trace is not None else -1.0
        print(
            f"[{s.completion_tokens} tokens · {s.decode_tps:.1f} tok/s · "
            f"first token (engine) {first if first >= 0 else s.ttft_ms:.0f} ms · "
            f"stop: {s.stop_reason}{_drafts_text(done)}]",
            file=sys.stderr,
        )
    return 0


def _say_draft_note(args: argparse.Namespace, info: ModelInfo | None) -> None:
    """Why the --draft-model asked for was left out (another vocabulary, a missing or damaged
    file), on stderr where the JSON and the reply do not go; the reply comes all the same."""
    if args.draft_model is not None and info is not None and info.draft_note:
        print(info.draft_note, file=sys.stderr)


def _draft_json(path: str, info: ModelInfo) -> dict[str, Any]:
    """--json's draft_model: the file asked for, whether the engine loaded it (its name), and
    the engine's note when it left it out."""
    return {"path": path, "loaded": bool(info.draft_name), "note": info.draft_note}


def _drafts_text(done: Done) -> str:
    """The stats line's drafting part: " · drafts by the draft model: 18 of 20 accepted"."""
    trace = done.trace
    if trace is None or not trace.drafted:
        return ""
    return f" · drafts by the {trace.drafter}: {trace.draft_accepted} of {trace.drafted} accepted"
