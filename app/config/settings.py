"""User settings in a small JSON file next to the database (readable without Qt, so the CLI
shares them). Unknown or invalid values fall back to defaults instead of failing."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from app.config.connections import Connection, read_connections
from app.util.atomic_write import write_atomic
from inference.kv_cache_rules import FLASH_AUTO, FLASH_ON, flash_attn_mode
from inference.protocol import EngineSettings, KeptStates
from inference.state_files import DEFAULT_BUDGET_BYTES, clamp_budget

THEMES: tuple[str, ...] = ("system", "light", "dark")
# Text sizes the window offers (points): outside them a hand-edited value is clamped.
FONT_SIZES = range(6, 33)


@dataclass(frozen=True)
class Settings:
    model_path: str | None = None  # None: the embedded default model
    n_ctx: int = 4096
    n_gpu_layers: int = 0
    n_threads: int | None = None  # decode threads; None: one per physical core
    n_threads_batch: int | None = None  # prefill threads; None: every usable logical CPU
    n_batch: int = 512
    # "auto" | "on" | "off" (inference.kv_cache_rules.FLASH_MODES): llama.cpp decides with
    # auto, which it turns on on CPUs (issue 13: less CPU per token on the built-in model, and
    # drafting needs it; the figures are in inference/kv_cache_rules.py).
    flash_attn: str = "auto"
    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    default_model_notice_dismissed: bool = False
    # inference.process.context_fit.OverflowPolicy value: ask | drop_oldest | keep_ends
    context_policy: str = "ask"
    # Ask the loaded model to name a chat after its first exchange (off: first words only).
    auto_titles: bool = False
    # Disk room for conversations' KV states kept between runs (issue 13, "Instant resume");
    # 0 keeps none. Read through `kept_states`, which clamps an absurd value.
    kv_states_budget_bytes: int = DEFAULT_BUDGET_BYTES
    # Hearth's OpenAI-compatible API server run by the window (issue 14): off unless switched
    # on. Any host but a loopback one needs an API key, kept in the system keyring
    # (app/config/api_server_key.py), never here. Port 0: any free port.
    api_server_enabled: bool = False
    api_server_host: str = "127.0.0.1"
    api_server_port: int = 8080
    # Each /v1/chat/completions request the window's server answered is stored as a chat
    # (app/chat/api_chats.py); off: API requests leave nothing in the history.
    api_server_keep_chats: bool = False
    # The window's colours (issue 15): one of THEMES; "system" follows the desktop.
    theme: str = "system"
    # The window's text size in points; 0 keeps the desktop's size.
    font_size: int = 0
    # Remote OpenAI-compatible servers (issue 14): names and addresses only, their API keys
    # are in the system keyring (app/models/connection_keys.py).
    connections: tuple[Connection, ...] = ()
    # The chat's model on a server, remembered for the next start (issue 14): the name of a
    # connection above and the server's model id; "" for both while a local model is chosen
    # (`model_path` then names it, and stays the local model to go back to).
    remote_connection: str = ""
    remote_model: str = ""

    def engine_settings(self, model_path: str | Path) -> EngineSettings:
        """How the engine loads `model_path` under these settings: the one place a new
        load setting is passed on (the CLI commands and the Translate page's own model)."""
        return EngineSettings(
            model_path=str(model_path),
            n_ctx=self.n_ctx,
            n_gpu_layers=self.n_gpu_layers,
            n_threads=self.n_threads,
            n_threads_batch=self.n_threads_batch,
            n_batch=self.n_batch,
            flash_attn=self.flash_attn,
        )

    def kept_states(self, folder: Path, draft_speeds: Path | None = None) -> KeptStates:
        """Where and how much the engine keeps KV states under these settings, and where it
        keeps drafting's speeds (None: nowhere): sent with every load. A budget from a
        hand-edited file that makes no sense (negative, larger than the disk) is clamped with
        a logged warning, never a failure."""
        budget = clamp_budget(self.kv_states_budget_bytes, folder)
        return KeptStates(str(folder), budget, str(draft_speeds) if draft_speeds else "")


def load_settings(path: Path) -> Settings:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    if not isinstance(raw, dict):
        return Settings()
    defaults = Settings()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name == "connections":  # a list of objects in the file: read on its own
            values[f.name] = read_connections(raw.get(f.name))
            continue
        if f.name == "flash_attn" and f.name in raw:
            values[f.name] = _flash_attn_from_file(raw[f.name])
            continue
        if f.name in raw:
            value, default = raw[f.name], getattr(defaults, f.name)
            ok = value is None or default is None or isinstance(value, type(default))
            if isinstance(default, float) and isinstance(value, int):
                value, ok = float(value), True
            if ok:
                values[f.name] = value
    return replace(defaults, **values)


def _flash_attn_from_file(value: object) -> str:
    """Files written before flash attention had three settings hold a bool: every file had
    false (the old default, saved with all the others), so false reads as the new default,
    auto; true was a choice and stays on. Anything unknown: auto."""
    if value is True:
        return FLASH_ON
    try:
        return flash_attn_mode(value) if value is not False else FLASH_AUTO
    except ValueError:
        return FLASH_AUTO


def save_settings(path: Path, settings: Settings) -> None:
    """Atomic write: a crash mid-save never leaves a half-written settings file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(asdict(settings), indent=2))
