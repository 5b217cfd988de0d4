"""Drafting's measurements kept on disk (issue 13), so a restarted engine does not measure
again what the last one already found (draft_switch.py decides from them).

One small JSON file in Hearth's data folder (app/config/paths.py: draft_speeds.json), named
by the app in every LoadRequest (KeptStates.draft_speeds):

    {"format": 1, "models": {"<model key>": {"<work>": {"plain_tokens": ..., ...}}}}

A model key is the model file's path, size and modification time (as kv_state_identity.py
tells a model file apart; a file replaced under the same name is another key, measured
afresh) and its GPU layers (the speeds differ). The file is read at every model load and
written when the engine is idle after a reply was measured: a temporary file renamed into
place, so a reader sees the old file or the new one. Another engine process (the CLI beside
the window) may write it too: a write keeps the other models' entries it finds. A file that
is not this format (damaged, foreign, from a later Hearth) is ignored with one log line and
replaced by the next write; an entry that does not make sense is skipped.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

FORMAT = 1
# More models than this and the least recently written go: the file stays small.
MAX_MODELS = 64


def model_key(path: str, n_gpu_layers: int) -> str:
    """The key of a model file as loaded; "" when the file cannot be read (nothing kept)."""
    try:
        stat = os.stat(path)
    except OSError:
        return ""
    return f"{path}|{stat.st_size}|{stat.st_mtime_ns}|gpu={n_gpu_layers}"


class DraftMemory:
    """The file. Engine main thread only (reads at load, writes when idle)."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def read(self) -> dict[str, object]:
        """Model key -> that model's kinds of work as `DraftSwitch.export` made them (not yet
        checked: `DraftSwitch.restore` checks each). {} when there is no usable file."""
        try:
            raw = self.file.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.warning(
                "Drafting speeds %s could not be read (%s); measuring again", self.file, exc
            )
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("Drafting speeds %s is damaged (%s); ignored", self.file, exc)
            return {}
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            log.warning("Drafting speeds %s is not a file this Hearth wrote; ignored", self.file)
            return {}
        models = data.get("models")
        if not isinstance(models, dict):
            log.warning("Drafting speeds %s holds no models; ignored", self.file)
            return {}
        return {str(key): works for key, works in models.items()}

    def write(self, measured: dict[str, dict[str, dict[str, float]]]) -> None:
        """Keep `measured` (model key -> works), and what other processes kept for other
        models. A failure (a full disk, a read-only folder) is logged: the speeds stay in
        memory and the next write tries again."""
        models = {key: works for key, works in self.read().items() if key not in measured}
        models.update(measured)  # last: the most recently written, kept when trimming
        if len(models) > MAX_MODELS:
            models = dict(list(models.items())[-MAX_MODELS:])
        text = json.dumps({"format": FORMAT, "models": models}, indent=1, sort_keys=False)
        partial = self.file.with_name(f"{self.file.name}.{os.getpid()}.partial")
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, self.file)
        except OSError as exc:
            log.warning("Drafting speeds could not be written to %s: %s", self.file, exc)
            try:
                partial.unlink()
            except OSError:
                pass
