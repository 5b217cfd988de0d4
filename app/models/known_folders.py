"""Where other apps keep GGUF models: the Hugging Face hub cache, LM Studio and GPT4All.
Resolved from the environment at call time (tests move HOME and HF_HOME)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def hf_hub_cache(env: Mapping[str, str] | None = None) -> Path:
    """huggingface_hub's cache folder, resolved the way huggingface_hub does it."""
    env = os.environ if env is None else env
    for key in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(key):
            return Path(env[key]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    cache = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "huggingface" / "hub"


def known_folders(env: Mapping[str, str] | None = None) -> list[tuple[str, Path]]:
    """(label, folder) pairs to scan, existing or not."""
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or Path.home())
    local_app_data = env.get("LOCALAPPDATA")
    folders = [
        ("Hugging Face cache", hf_hub_cache(env)),
        ("LM Studio", home / ".lmstudio" / "models"),
        ("LM Studio", home / ".cache" / "lm-studio" / "models"),
        ("GPT4All", home / ".local" / "share" / "nomic.ai" / "GPT4All"),
        ("GPT4All", home / "Library" / "Application Support" / "nomic.ai" / "GPT4All"),
    ]
    if local_app_data:
        folders.append(("GPT4All", Path(local_app_data) / "nomic.ai" / "GPT4All"))
    return folders
