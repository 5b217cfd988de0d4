"""Named presets: a system prompt plus sampling settings the user reuses across chats."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from storage.database import Database
from storage.errors import PresetNameTakenError, RecordNotFoundError
from storage.models import PresetRow, utc_now
from storage.sampling_values import PRESET_KEYS, sampling_from_json, sampling_to_json

SAMPLING_KEYS = PRESET_KEYS


@dataclass(frozen=True)
class Preset:
    id: int
    name: str
    system_prompt: str
    # Only the keys in SAMPLING_KEYS; a missing key means "the app's default".
    sampling: dict[str, float | int] = field(default_factory=dict)


def _preset(row: PresetRow) -> Preset:
    sampling = sampling_from_json(row.sampling_json, PRESET_KEYS)
    return Preset(row.id, row.name, row.system_prompt, sampling)


class PresetRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def list(self) -> list[Preset]:
        with self._db.session() as session:
            rows = session.scalars(select(PresetRow).order_by(PresetRow.name))
            return [_preset(row) for row in rows]

    def save(
        self,
        name: str,
        system_prompt: str,
        sampling: dict[str, float | int],
        preset_id: int | None = None,
    ) -> Preset:
        """Create (no id) or update a preset. Raises PresetNameTakenError for a duplicate name."""
        name = " ".join(name.split())
        if not name:
            raise ValueError("A preset needs a name.")
        now = utc_now()
        with self._db.session() as session:
            clash = session.scalar(
                select(PresetRow.id).where(
                    PresetRow.name == name, PresetRow.id != (preset_id or -1)
                )
            )
            if clash is not None:
                raise PresetNameTakenError(f"A preset named “{name}” already exists.")
            if preset_id is None:
                row = PresetRow(created_at=now)
                session.add(row)
            else:
                found = session.get(PresetRow, preset_id)
                if found is None:
                    raise RecordNotFoundError(f"Preset {preset_id} does not exist.")
                row = found
            row.name = name
            row.system_prompt = system_prompt
            row.sampling_json = sampling_to_json(sampling, PRESET_KEYS)
            row.updated_at = now
            session.flush()
            return _preset(row)

    def unique_name(self, wanted: str) -> str:
        """`wanted`, or `wanted (2)`, `(3)`… when taken (duplicate, import)."""
        taken = {p.name for p in self.list()}
        if wanted not in taken:
            return wanted
        number = 2
        while f"{wanted} ({number})" in taken:
            number += 1
        return f"{wanted} ({number})"

    def delete(self, preset_id: int) -> None:
        with self._db.session() as session:
            row = session.get(PresetRow, preset_id)
            if row is not None:
                session.delete(row)
