"""Per-model settings: what the user chose for one model file (context size, GPU layers,
threads, chat template, system prompt, sampling), kept in `model_settings.json` in the data
folder, keyed by the model's path. No Qt: the CLI and the chat controller read it too.

A value of None means "not set for this model": the global Settings value applies. The file is
written atomically; a missing or damaged file (or entry) reads as "nothing set".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from app.config.settings import Settings
from app.util.atomic_write import write_atomic
from inference.kv_cache_rules import FLASH_MODES, KV_CACHE_BLOCK, flash_attn_mode
from inference.protocol import EngineSettings, Sampling

SETTINGS_FILE = "model_settings.json"
AUTO = "auto"  # GPU layers chosen by the fit estimate; also the automatic chat format
CUSTOM = "custom"  # chat_format value meaning "use custom_template"
# Fields that change how llama.cpp loads the model: a change shows "takes effect after
# reload". The others (prompt, sampling) apply to the next reply.
RELOAD_FIELDS = (
    "n_ctx",
    "n_gpu_layers",
    "n_threads",
    "n_threads_batch",
    "n_batch",
    "flash_attn",
    "chat_format",
    "type_k",
    "type_v",
    "draft_model",
)


@dataclass(frozen=True)
class ModelSettings:
    n_ctx: int | None = None
    n_gpu_layers: int | str | None = None  # a count (-1 = all) or AUTO
    n_threads: int | None = None
    n_threads_batch: int | None = None
    n_batch: int | None = None
    # "auto" | "on" | "off" (inference.kv_cache_rules.FLASH_MODES); a bool in files written
    # before the three-way setting reads as on/off (a per-model value was always a choice).
    flash_attn: str | None = None
    chat_format: str | None = None  # AUTO, a built-in format name or CUSTOM
    custom_template: str = ""  # kept even while another format is chosen
    system_prompt: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    repeat_penalty: float | None = None
    seed: int | None = None
    # KV cache element types ("f16", "q8_0", "q4_0", ...; inference.kv_cache_rules.KV_CACHE_BLOCK);
    # None: f16. A quantized V needs flash attention (inference.kv_cache_rules.kv_cache_refusal).
    type_k: str | None = None
    type_v: str | None = None
    # Speculative decoding's draft model (issue 13): the path of a local GGUF with the same
    # vocabulary; None: none (prompt lookup drafts alone).
    draft_model: str | None = None

    def __post_init__(self) -> None:
        if self.flash_attn is not None:  # a bool from code written before: on/off
            object.__setattr__(self, "flash_attn", flash_attn_mode(self.flash_attn))

    def reload_changes(self, other: ModelSettings) -> tuple[str, ...]:
        """Names of the fields in RELOAD_FIELDS that differ from `other` (a custom template's
        text counts while the custom format is chosen)."""
        changed = [f for f in RELOAD_FIELDS if getattr(self, f) != getattr(other, f)]
        if (
            "chat_format" not in changed
            and self.chat_format == CUSTOM
            and self.custom_template != other.custom_template
        ):
            changed.append("chat_format")
        return tuple(changed)


_TYPES: dict[str, tuple[type, ...]] = {
    "n_ctx": (int,),
    "n_gpu_layers": (int, str),
    "n_threads": (int,),
    "n_threads_batch": (int,),
    "n_batch": (int,),
    "flash_attn": (str, bool),
    "chat_format": (str,),
    "custom_template": (str,),
    "system_prompt": (str,),
    "temperature": (float, int),
    "top_p": (float, int),
    "top_k": (int,),
    "min_p": (float, int),
    "repeat_penalty": (float, int),
    "seed": (int,),
    "type_k": (str,),
    "type_v": (str,),
    "draft_model": (str,),
}


def _from_json(raw: object) -> ModelSettings:
    """Known fields of the right type; anything else is ignored (hand edits never crash)."""
    if not isinstance(raw, dict):
        return ModelSettings()
    values: dict[str, Any] = {}
    for f in fields(ModelSettings):
        value = raw.get(f.name)
        if value is None:
            continue
        kinds = _TYPES[f.name]
        if isinstance(value, bool) and bool not in kinds:
            continue
        if not isinstance(value, kinds):
            continue
        if f.name == "n_gpu_layers" and isinstance(value, str) and value != AUTO:
            continue
        if f.name in ("type_k", "type_v") and value not in KV_CACHE_BLOCK:
            continue
        if f.name == "flash_attn":
            if not isinstance(value, bool) and value not in FLASH_MODES:
                continue
            value = flash_attn_mode(value)
        if float in kinds and isinstance(value, int):
            value = float(value)
        values[f.name] = value
    return ModelSettings(**values)


def _key(model_path: str | Path) -> str:
    return str(Path(model_path).expanduser().resolve())


class ModelSettingsStore:
    """The JSON file of per-model settings. Any thread may read; writes come from the GUI
    thread (or one CLI command) and replace the file atomically."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / SETTINGS_FILE

    def _read_all(self) -> dict[str, Any]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        models = raw.get("models") if isinstance(raw, dict) else None
        return models if isinstance(models, dict) else {}

    def get(self, model_path: str | Path) -> ModelSettings:
        return _from_json(self._read_all().get(_key(model_path)))

    def put(self, model_path: str | Path, settings: ModelSettings) -> None:
        """Store `settings` for this model (only the values that are set)."""
        models = self._read_all()
        data = {k: v for k, v in asdict(settings).items() if v is not None and v != ""}
        if data:
            models[_key(model_path)] = data
        else:
            models.pop(_key(model_path), None)
        self._write({"version": 1, "models": models})

    def _write(self, payload: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(payload, indent=2))


def load_model_settings(data_dir: Path, model_path: str | Path) -> ModelSettings:
    return ModelSettingsStore(data_dir).get(model_path)


def engine_chat_format(overrides: ModelSettings) -> str:
    """EngineSettings.chat_format for these settings: "auto", a built-in name or the custom
    template's text."""
    choice = overrides.chat_format or AUTO
    if choice == CUSTOM:
        return overrides.custom_template if overrides.custom_template.strip() else AUTO
    return choice


AutoLayers = Callable[[EngineSettings], int]


def estimate_auto_gpu_layers(engine: EngineSettings, gpu_available: bool = True) -> int:
    """GPU layers that fit this machine's free VRAM for these settings (0 without a GPU).
    Reads the model header and asks nvidia-smi; 0 when either fails. A draft model the engine
    would load beside it (readable, same vocabulary) is counted too."""
    from app.models.fit import auto_gpu_layers
    from app.models.gguf_layout import read_layout
    from app.models.machine import detect_machine
    from inference.gguf import ModelFileError
    from inference.gguf.vocabulary import vocabulary_mismatch

    machine = detect_machine()
    if not gpu_available or machine.best_gpu is None:
        return 0
    try:
        layout = read_layout(Path(engine.model_path))
    except ModelFileError:
        return 0
    draft = None
    if engine.draft_model_path:  # issue 13: as inference/process/draft_model.py loads it
        draft_path = Path(engine.draft_model_path)
        try:
            if not vocabulary_mismatch(Path(engine.model_path), draft_path):
                draft = read_layout(draft_path)
        except ModelFileError:
            pass  # the engine leaves it out too
    return auto_gpu_layers(
        layout, engine.n_ctx, machine, n_batch=engine.n_batch, flash_attn=engine.flash_attn,
        type_k=engine.type_k, type_v=engine.type_v, draft=draft,
    )  # fmt: skip


def engine_settings_for(
    settings: Settings,
    model_path: str,
    overrides: ModelSettings | None,
    *,
    auto_gpu_layers: AutoLayers | None = None,
) -> tuple[EngineSettings, Sampling, str | None]:
    """Global settings with this model's own values on top: what to load it with, how to
    sample, and the default system prompt (None: none).

    GPU layers set to Auto are resolved by `auto_gpu_layers(engine_settings)`, by default
    `estimate_auto_gpu_layers` (header read + nvidia-smi); pure otherwise."""
    o = overrides or ModelSettings()

    def pick(name: str, fallback: Any) -> Any:
        value = getattr(o, name)
        return fallback if value is None else value

    engine = EngineSettings(
        model_path=model_path,
        n_ctx=pick("n_ctx", settings.n_ctx),
        n_gpu_layers=settings.n_gpu_layers,
        n_threads=pick("n_threads", settings.n_threads),
        n_threads_batch=pick("n_threads_batch", settings.n_threads_batch),
        n_batch=pick("n_batch", settings.n_batch),
        flash_attn=pick("flash_attn", settings.flash_attn),
        seed=o.seed if o.seed is not None else -1,
        chat_format=engine_chat_format(o),
        type_k=o.type_k or "f16",
        type_v=o.type_v or "f16",
        draft_model_path=o.draft_model or "",
    )
    if o.n_gpu_layers == AUTO:
        resolve = auto_gpu_layers or estimate_auto_gpu_layers
        engine = replace(engine, n_gpu_layers=resolve(engine))
    elif isinstance(o.n_gpu_layers, int):
        engine = replace(engine, n_gpu_layers=o.n_gpu_layers)
    sampling = Sampling(
        temperature=pick("temperature", settings.temperature),
        top_p=pick("top_p", settings.top_p),
        top_k=pick("top_k", settings.top_k),
        min_p=pick("min_p", settings.min_p),
        repeat_penalty=pick("repeat_penalty", settings.repeat_penalty),
        seed=o.seed,
    )
    prompt = o.system_prompt if o.system_prompt and o.system_prompt.strip() else None
    return engine, sampling, prompt
