"""What a chat's reply is generated with: the model's sampling with the chat's own stored
values on top, and the reverse view (plain numbers) that the sampling dialog edits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace

from inference.protocol import Sampling
from storage.sampling_values import RANDOM_SEED

_SAMPLING_FIELDS = frozenset(asdict(Sampling()))


def chat_sampling(
    base: Sampling, max_tokens: int, own: Mapping[str, float | int]
) -> tuple[Sampling, int]:
    """The model's sampling and reply length with this chat's own values on top."""
    values = {k: v for k, v in own.items() if k in _SAMPLING_FIELDS}
    if values.get("seed") == RANDOM_SEED:
        values["seed"] = None  # type: ignore[assignment]  # Sampling's "a new seed each time"
    length = own.get("max_tokens", max_tokens)
    return replace(base, **values), int(length)  # type: ignore[arg-type]


def sampling_values(sampling: Sampling, max_tokens: int) -> dict[str, float | int]:
    """The dialog's view of a Sampling: plain numbers, the random seed as RANDOM_SEED."""
    values: dict[str, float | int] = {
        k: v for k, v in asdict(sampling).items() if k != "seed" and v is not None
    }
    values["seed"] = RANDOM_SEED if sampling.seed is None else sampling.seed
    values["max_tokens"] = max_tokens
    return values
