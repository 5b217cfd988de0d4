"""Sampling values kept as JSON (a preset's, a chat's own): only known keys with numbers
survive, so a hand-edited or damaged field loses its numbers, never the row."""

from __future__ import annotations

import json

# What a preset holds. A chat may also fix the seed (repeatable replies).
PRESET_KEYS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens")
CHAT_KEYS = (*PRESET_KEYS, "seed")
INTEGER_KEYS = frozenset({"top_k", "max_tokens", "seed"})

SamplingValues = dict[str, float | int]


def clean_sampling(values: object, keys: tuple[str, ...] = CHAT_KEYS) -> SamplingValues:
    if not isinstance(values, dict):
        return {}
    clean: SamplingValues = {}
    for key, value in values.items():
        if key not in keys or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if key in INTEGER_KEYS:
            if isinstance(value, float) and not value.is_integer():
                continue
            value = int(value)
        clean[key] = value
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
