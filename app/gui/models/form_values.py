"""The per-model settings form's values: what the form shows for a model (its own settings
over the global ones) and what to store from what the form holds (only what differs from the
global settings). Pure functions: no Qt, no I/O."""

from __future__ import annotations

from dataclasses import astuple, fields

from app.config.settings import Settings
from app.models.settings import AUTO, CUSTOM, ModelSettings
from inference.kv_cache_rules import flash_attn_mode
from inference.process.cpu_threads import default_thread_counts
from inference.templates import BUILTIN_FORMATS
from ui.models.rows import SettingsValues

# Short, so the choice reads whole in the form at the default window size; the combo's
# tooltip says the rest.
AUTO_FORMAT_LABEL = "Automatic (model's own)"


def format_choices() -> tuple[tuple[str, str], ...]:
    builtins = tuple((name, fmt.label) for name, fmt in BUILTIN_FORMATS.items())
    return ((AUTO, AUTO_FORMAT_LABEL), *builtins)


def settings_values(
    settings: Settings,
    own: ModelSettings,
    *,
    max_context: int | None,
    total_layers: int,
    draft_choices: tuple[tuple[str, str], ...] = (),
    flash_resolved: str = "",
) -> SettingsValues:
    """The form's values: the model's own where set, the global settings elsewhere.
    `flash_resolved`: what flash attention became in the engine if this model is loaded."""

    def pick(name: str, fallback: object) -> object:
        value = getattr(own, name)
        return fallback if value is None else value

    layers = own.n_gpu_layers if isinstance(own.n_gpu_layers, int) else settings.n_gpu_layers
    return SettingsValues(
        n_ctx=int(pick("n_ctx", settings.n_ctx)),  # type: ignore[call-overload]
        n_gpu_layers=total_layers if layers < 0 else layers,
        gpu_auto=own.n_gpu_layers == AUTO,
        n_threads=int(pick("n_threads", settings.n_threads) or 0),  # type: ignore[call-overload]
        n_batch=int(pick("n_batch", settings.n_batch)),  # type: ignore[call-overload]
        flash_attn=flash_attn_mode(pick("flash_attn", settings.flash_attn)),
        chat_format=own.chat_format or AUTO,
        custom_template=own.custom_template,
        system_prompt=own.system_prompt or "",
        temperature=float(pick("temperature", settings.temperature)),  # type: ignore[arg-type]
        top_p=float(pick("top_p", settings.top_p)),  # type: ignore[arg-type]
        top_k=int(pick("top_k", settings.top_k)),  # type: ignore[call-overload]
        min_p=float(pick("min_p", settings.min_p)),  # type: ignore[arg-type]
        repeat_penalty=float(pick("repeat_penalty", settings.repeat_penalty)),  # type: ignore[arg-type]
        seed=own.seed,
        max_context=max_context or 131072,
        total_layers=total_layers,
        formats=format_choices(),
        n_threads_batch=int(pick("n_threads_batch", settings.n_threads_batch) or 0),  # type: ignore[call-overload]
        auto_threads=astuple(default_thread_counts()),
        type_k=own.type_k or "f16",
        type_v=own.type_v or "f16",
        draft_model=own.draft_model or "",
        draft_choices=draft_choices,
        flash_resolved=flash_resolved,
    )


def settings_from_values(settings: Settings, values: SettingsValues) -> ModelSettings:
    """What to store for a model: only the values that differ from the global settings, so
    a later change of a global default still reaches the fields the user left alone."""
    total = values.total_layers
    global_layers = total if settings.n_gpu_layers < 0 else settings.n_gpu_layers
    layers: int | str | None
    if values.gpu_auto:
        layers = AUTO
    elif values.n_gpu_layers == global_layers:
        layers = None
    else:
        layers = -1 if total and values.n_gpu_layers >= total else values.n_gpu_layers
    threads = values.n_threads or None
    batch_threads = values.n_threads_batch or None
    own = ModelSettings(
        n_ctx=values.n_ctx,
        n_gpu_layers=layers,
        n_threads=threads,
        n_threads_batch=batch_threads,
        n_batch=values.n_batch,
        flash_attn=values.flash_attn,
        chat_format=None if values.chat_format == AUTO else values.chat_format,
        custom_template=values.custom_template if values.custom_template.strip() else "",
        system_prompt=values.system_prompt if values.system_prompt.strip() else None,
        temperature=values.temperature,
        top_p=values.top_p,
        top_k=values.top_k,
        min_p=values.min_p,
        repeat_penalty=values.repeat_penalty,
        seed=values.seed,
        # f16 is the default: stored only when another type is chosen.
        type_k=None if values.type_k == "f16" else values.type_k,
        type_v=None if values.type_v == "f16" else values.type_v,
        draft_model=values.draft_model or None,
    )
    same_as_global = {
        f.name: None
        for f in fields(ModelSettings)
        if f.name in {g.name for g in fields(Settings)}
        and f.name != "n_gpu_layers"
        and getattr(own, f.name) == getattr(settings, f.name)
    }
    if own.chat_format not in (None, CUSTOM) and own.chat_format not in BUILTIN_FORMATS:
        same_as_global["chat_format"] = None
    return ModelSettings(
        **{**{f.name: getattr(own, f.name) for f in fields(own)}, **same_as_global}
    )
