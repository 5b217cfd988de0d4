"""What a remote server says about itself, read from its answers (issue 14): the models it
lists (/v1/models), its context size (llama-server's /props, vLLM's max_model_len), and token
counts from its tokenizer (llama-server's and vLLM's /tokenize, llama-cpp-python's
/extras/tokenize/count). When a server offers none of these, Hearth estimates and says so.
Parsing only: remote.py makes the requests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from inference.backends.remote_errors import RemoteError, RemoteErrorKind
from inference.protocol import ModelInfo

# The context size assumed for a server that does not say (Ollama's and LM Studio's OpenAI
# APIs): llama-server's and Ollama's usual default. Shown as an estimate.
ESTIMATED_N_CTX = 4096

# Bytes of UTF-8 per token assumed when the server has no tokenizer endpoint: English runs
# about 4-5 bytes per token, CJK text about 3, so this errs towards too many tokens, which
# splits documents a little finer rather than overflowing the context.
ESTIMATE_BYTES_PER_TOKEN = 3.0


@dataclass(frozen=True)
class ServerModel:
    """One entry of /v1/models: `n_ctx` when the server tells it (vLLM's max_model_len, LM
    Studio's max_context_length), else None."""

    id: str
    owned_by: str = ""
    n_ctx: int | None = None


def _positive_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and value > 0 else None


def parse_models(data: Any) -> tuple[ServerModel, ...]:
    """/v1/models's answer ({"data": [{"id": ...}, ...]}); raises ValueError if it is not."""
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ValueError("the model list is not an OpenAI model list")
    models = []
    for entry in data["data"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        n_ctx = None
        for key in ("max_model_len", "max_context_length", "context_length"):
            n_ctx = n_ctx or _positive_int(entry.get(key))
        models.append(ServerModel(entry["id"], str(entry.get("owned_by") or ""), n_ctx))
    return tuple(models)


def choose_model(
    listed: tuple[ServerModel, ...], wanted: str | None, host: str
) -> tuple[str, ServerModel | None]:
    """The model to ask for and its /v1/models entry: `wanted` when listed (Ollama lists
    "name:latest" and answers to "name"), the only model when none is wanted; a
    MODEL_NOT_FOUND RemoteError naming what there is otherwise. A server that lists nothing
    is taken at its word for any name."""
    ids = tuple(m.id for m in listed)
    if wanted is None:
        if len(ids) != 1:
            raise RemoteError(
                RemoteErrorKind.MODEL_NOT_FOUND,
                f"{host} serves {len(ids)} models; choose one: {', '.join(ids) or 'none'}.",
                server=host,
            )
        return ids[0], listed[0]
    entry = next((m for m in listed if m.id in (wanted, f"{wanted}:latest")), None)
    if ids and entry is None:
        raise RemoteError(
            RemoteErrorKind.MODEL_NOT_FOUND,
            f"{host} has no model {wanted!r}; it has: {', '.join(ids)}.",
            server=host,
        )
    return wanted, entry


def n_ctx_from_props(data: Any) -> int | None:
    """llama-server's /props: the context of one slot (default_generation_settings.n_ctx),
    or a top-level n_ctx; None for anything else."""
    if not isinstance(data, dict):
        return None
    settings = data.get("default_generation_settings")
    if isinstance(settings, dict) and _positive_int(settings.get("n_ctx")):
        return _positive_int(settings.get("n_ctx"))
    return _positive_int(data.get("n_ctx"))


def tokenize_body(text: str, model: str) -> dict[str, Any]:
    """One body both /tokenize dialects read: llama-server takes `content`/`add_special`,
    vLLM `prompt`/`add_special_tokens`; each ignores the other's fields."""
    return {
        "content": text,
        "prompt": text,
        "model": model,
        "add_special": False,
        "add_special_tokens": False,
    }


def token_count(data: Any) -> int | None:
    """A /tokenize or /extras/tokenize/count answer: {"tokens": [...]} or {"count": n}."""
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("count"), int):
        return int(data["count"])
    if isinstance(data.get("tokens"), list):
        return len(data["tokens"])
    return None


def estimate_tokens(text: str) -> int:
    """Tokens `text` is assumed to take without the server's tokenizer (see
    ESTIMATE_BYTES_PER_TOKEN)."""
    return math.ceil(len(text.encode("utf-8")) / ESTIMATE_BYTES_PER_TOKEN)


def remote_model_info(
    api_base: str, host: str, model: str, n_ctx: int, *, estimated: bool, load_ms: float
) -> ModelInfo:
    """The ModelInfo of a model on a server: `path` is the API's address, `backend` names
    the server, `load_ms` is the time the server took to answer Hearth's questions."""
    return ModelInfo(
        path=api_base,
        name=model,
        architecture="remote",
        quantization=None,
        n_ctx=n_ctx,
        n_ctx_train=0,
        n_gpu_layers=0,
        n_layers=0,
        gpu_offload_supported=False,
        backend=f"remote ({host})",
        # The server renders the chat with the model's own template (llama-server from the
        # GGUF, vLLM from the tokenizer, Ollama from its Modelfile): app.util.instruction_echo
        # then sends such a model chat prompts, as it does a local model with its template.
        chat_format="model-template",
        chat_format_label="the server's (the model's own template)",
        chat_format_stops=(),
        load_ms=load_ms,
        llama_cpp_version="",
        n_ctx_estimated=estimated,
    )
