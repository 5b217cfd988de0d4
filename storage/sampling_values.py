"""Sampling values kept as JSON (a preset's, a chat's own): only known keys with numbers
survive, so a hand-edited or damaged field loses its numbers, never the row."""

from __future__ import annotations

import json

# What a preset holds. A chat may also fix the seed (repeatable replies).
PRESET_KEYS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens")
CHAT_KEYS = (*PRESET_KEYS, "seed")
INTEGER_KEYS = frozenset({"top_k", "max_tokens", "seed"})

SamplingValues = dict[str, float | int]

# A chat's stored seed meaning "a new seed for every reply" (the sampling dialog's "Random"),
# kept even when the model's own settings fix a seed, so a chat can still ask for variety.
RANDOM_SEED = -1

# What each value may be: the ranges the sampling spin boxes offer. A value outside them (a
# shared file's temperature of 1e308, a negative reply length, a seed past 32 bits) would
# reach llama.cpp, which overflows or samples nonsense; it is refused on import and dropped
# on reading. The seed's -1 means "a new seed every reply".
LIMITS: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "top_k": (0, 500),
    "min_p": (0.0, 1.0),
    "repeat_penalty": (0.5, 2.0),
    "max_tokens": (1, 32_768),
    "seed": (-1, 2**31 - 1),
}


def out_of_range(key: str, value: float) -> str | None:
    """Why `value` cannot be `key`'s, in plain words; None when it can."""
    low, high = LIMITS[key]
    if key in INTEGER_KEYS and not float(value).is_integer():
        return f"{key} must be a whole number, not {value:g}"
    if not low <= value <= high:  # NaN fails this too
        return f"{key} must be between {low:g} and {high:g}, not {value:g}"
    return None


def clean_sampling(values: object, keys: tuple[str, ...] = CHAT_KEYS) -> SamplingValues:
    if not isinstance(values, dict):
        return {}
    clean: SamplingValues = {}
    for key, value in values.items():
        if key not in keys or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if out_of_range(key, value) is not None:
            continue
        clean[key] = int(value) if key in INTEGER_KEYS else value
    return clean


def sampling_from_json(text: str | None, keys: tuple[str, ...] = CHAT_KEYS) -> SamplingValues:
    if not text:
        return {}
    try:
        return clean_sampling(json.loads(text), keys)
    except ValueError:
        return {}


def sampling_to_json(values: object, keys: tuple[str, ...] = CHAT_KEYS) -> str:
    return json.dumps(clean_sampling(values, keys), sort_keys=True)
