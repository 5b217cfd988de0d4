"""Where Hearth keeps its data. HEARTH_HOME moves everything into one folder."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir


@dataclass(frozen=True)
class HearthPaths:
    data_dir: Path
    database: Path
    models_dir: Path
    settings_file: Path
    # Conversations' KV states kept between engine processes (inference/state_files.py).
    kv_states_dir: Path
    # Drafting's measured speeds per model and kind of work (inference/process/draft_memory.py).
    draft_speeds_file: Path

    def ensure(self) -> HearthPaths:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        return self

    def ensure_for_history(self) -> HearthPaths:
        """`ensure`, for opening the chat history: a folder that cannot be created raises
        DatabaseError naming the cause (a full disk, a read-only folder), as opening does."""
        from storage.data_folder import folder_problem
        from storage.errors import DatabaseError

        try:
            return self.ensure()
        except OSError as exc:
            raise DatabaseError(
                folder_problem(self.data_dir)
                or f"Hearth's data folder {self.data_dir} could not be created ({exc})."
            ) from exc


def resolve_paths(env: Mapping[str, str] | None = None) -> HearthPaths:
    env = os.environ if env is None else env
    home = env.get("HEARTH_HOME")
    data_dir = Path(home).expanduser() if home else Path(user_data_dir("Hearth", "Hearth"))
    return HearthPaths(
        data_dir=data_dir,
        database=data_dir / "hearth.db",
        models_dir=data_dir / "models",
        settings_file=data_dir / "settings.json",
        kv_states_dir=data_dir / "kv_states",
        draft_speeds_file=data_dir / "draft_speeds.json",
    )
