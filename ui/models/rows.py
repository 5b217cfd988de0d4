"""Plain data the Models page shows; the app's ModelsController builds these, the page draws
them. No Qt and no app imports (the page may only see stdlib, PySide6 and these)."""

from __future__ import annotations

from dataclasses import dataclass, field

AUTO = "auto"
CUSTOM = "custom"


@dataclass(frozen=True)
class InstalledRow:
    path: str
    name: str
    architecture: str = ""
    parameters: str = ""
    quantization: str = ""
    size: str = ""
    context: str = ""
    has_template: bool = False
    location: str = ""  # folder, and where it came from
    source: str = ""
    in_use: bool = False
    error: str = ""  # why the file cannot be used (empty: usable)
    removable: bool = False  # an import that "Remove from list" forgets
    deletable: bool = False  # a file in Hearth's own models folder that "Delete file…" deletes


@dataclass(frozen=True)
class FoundRow:
    """A model another app downloaded (found by Scan folders)."""

    path: str
    name: str
    quantization: str
    size: str
    found_in: str


@dataclass(frozen=True)
class RepoRow:
    repo_id: str
    downloads: str
    gated: bool


@dataclass(frozen=True)
class RemoteFileRow:
    key: str  # the first file's name in the repository
    quantization: str
    size: str
    parts: int
    fit: str  # the verdict for this machine, short, for the table
    installed: bool = False
    fit_details: str = ""  # the verdict with its numbers and what it was estimated from
    partial: str = ""  # what an earlier, unfinished download left to resume ("" when none)


@dataclass(frozen=True)
class DownloadState:
    """What the download row shows. `state`: running | paused | failed | done | idle."""

    state: str
    text: str
    fraction: float | None = None


@dataclass(frozen=True)
class FitView:
    kind: str  # "fits on GPU" | "partly on GPU" | "CPU only" | "won't fit"
    text: str  # the verdict with numbers
    breakdown: str  # weights / KV cache / compute
    auto_layers: int
    total_layers: int


@dataclass(frozen=True)
class LoadedView:
    """The truth after a load: what llama.cpp actually did."""

    name: str
    path: str
    backend: str
    layers: str  # "requested 99, offloaded 0 of 3"
    memory: str
    details: str  # context, chat format, load time, llama.cpp version
    gpu_note: str = ""  # why the GPU is not used (plain words), or empty
    threads: str = ""  # CPU threads for replies and for prompts, and who chose them


@dataclass(frozen=True)
class SettingsValues:
    """The per-model settings form. Numbers are effective values (global defaults where the
    model has none); 0 threads means "Automatic" (`auto_threads`); seed None means random."""

    n_ctx: int
    n_gpu_layers: int
    gpu_auto: bool
    n_threads: int
    n_batch: int
    flash_attn: str  # "auto", "on" or "off"
    chat_format: str  # AUTO, a built-in name or CUSTOM
    custom_template: str
    system_prompt: str
    temperature: float
    top_p: float
    top_k: int
    min_p: float
    repeat_penalty: float
    seed: int | None
    max_context: int = 131072
    total_layers: int = 0
    formats: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (value, label)
    n_threads_batch: int = 0  # prefill threads; 0 as for n_threads
    # What "Automatic" means on this machine: (decode, prefill) threads.
    auto_threads: tuple[int, int] = (0, 0)
    type_k: str = "f16"  # KV cache element types
    type_v: str = "f16"
    # Speculative decoding's draft model: its path ("" none), and the models offered for it
    # as (path, label).
    draft_model: str = ""
    draft_choices: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # What flash attention "auto" became for this model while it is loaded ("on"/"off"; ""
    # when it is not loaded): the form's "Automatic" says it.
    flash_resolved: str = ""
