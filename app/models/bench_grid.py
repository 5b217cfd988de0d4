"""What a `hearth bench` run measures: the plan (lists of settings, like llama-bench's) and
its expansion into configurations, grouped by what needs a model load."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import TypeVar

from inference.protocol import EngineSettings

T = TypeVar("T")


@dataclass(frozen=True)
class BenchPlan:
    """llama-bench's defaults: a 512-token prompt and 128 generated tokens, each at every
    depth (tokens already in the context: 0 and 4096, lowered to fit the model's context),
    5 repetitions. Each list is one axis of the grid; `None` threads: Hearth's own choice."""

    n_prompt: int = 512
    n_gen: int = 128
    depths: tuple[int, ...] = (0, 4096)
    n_gpu_layers: tuple[int, ...] = (0,)
    threads: tuple[int | None, ...] = (None,)
    n_batch: tuple[int, ...] = (512,)
    flash_attn: tuple[str, ...] = ("auto",)  # "auto" | "on" | "off"
    type_k: tuple[str, ...] = ("f16",)
    type_v: tuple[str, ...] = ("f16",)
    repetitions: int = 5
    seed: int = 0


@dataclass(frozen=True)
class LoadKey:
    """The settings that need the model loaded again when they change."""

    n_gpu_layers: int
    threads: int | None
    n_batch: int
    flash_attn: str  # the setting; the record keeps what llama.cpp made of it
    type_k: str
    type_v: str

    def settings(self, base: EngineSettings, n_ctx: int) -> EngineSettings:
        return replace(
            base,
            n_ctx=n_ctx,
            n_gpu_layers=self.n_gpu_layers,
            n_threads=self.threads,
            n_threads_batch=self.threads,
            n_batch=self.n_batch,
            flash_attn=self.flash_attn,
            type_k=self.type_k,
            type_v=self.type_v,
        )


@dataclass(frozen=True)
class LoadGroup:
    """One load and the depths measured on it; `n_ctx` holds the deepest of them, and
    `notes` say which depth was lowered to fit the model's context (and why)."""

    key: LoadKey
    n_ctx: int
    depths: tuple[int, ...]
    notes: tuple[str, ...] = ()
    error: str | None = None  # the plan cannot run on this model at all


def load_groups(plan: BenchPlan, n_ctx_train: int | None) -> list[LoadGroup]:
    """The grid in llama-bench's order (the load settings' product, then the depths).
    A depth deeper than the model's training context allows (depth + prompt + generation
    tokens) is lowered to the deepest that fits, once per run, with a note."""
    depths, notes, error = fit_depths(plan, n_ctx_train)
    n_ctx = max(depths, default=0) + plan.n_prompt + plan.n_gen
    axes = itertools.product(
        _unique(plan.n_gpu_layers),
        _unique(plan.threads),
        _unique(plan.n_batch),
        _unique(plan.flash_attn),
        _unique(plan.type_k),
        _unique(plan.type_v),
    )
    return [LoadGroup(LoadKey(*values), n_ctx, depths, notes, error) for values in axes]


def fit_depths(
    plan: BenchPlan, n_ctx_train: int | None
) -> tuple[tuple[int, ...], tuple[str, ...], str | None]:
    """(depths to run, notes, an error when not even depth 0 fits)."""
    wanted = _unique(plan.depths) or (0,)
    if n_ctx_train is None:
        return wanted, (), None
    room = n_ctx_train - plan.n_prompt - plan.n_gen
    if room < 0:
        return (
            wanted,
            (),
            f"a {plan.n_prompt}-token prompt and {plan.n_gen} generated tokens do not fit "
            f"the model's context of {n_ctx_train} tokens",
        )
    fitted: list[int] = []
    notes: list[str] = []
    for depth in wanted:
        if depth > room:
            notes.append(
                f"depth {depth} lowered to {room}: the model's context is {n_ctx_train} tokens "
                f"({plan.n_prompt} prompt + {plan.n_gen} generated tokens must fit after it)"
            )
            depth = room
        if depth not in fitted:
            fitted.append(depth)
    return tuple(fitted), tuple(notes), None


def _unique(values: tuple[T, ...]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(values))
