"""The JSON shapes a summary is stored in (partial summaries' sources, final citations)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from app.documents.citations import Citation
from app.documents.model import SourceRef


def _ref_json(ref: SourceRef) -> dict[str, object]:
    return {"page": ref.page, "heading": list(ref.heading_path)}


def sources_json(ids: Sequence[int], refs: Sequence[SourceRef]) -> str:
    return json.dumps({"chunks": list(ids), "refs": [_ref_json(r) for r in refs]})


def _citation_json(citation: Citation) -> dict[str, object]:
    return {
        "point": citation.point,
        "text": citation.text,
        "chunks": list(citation.chunk_ids),
        "refs": [_ref_json(r) for r in citation.refs],
        "labels": [r.label for r in citation.refs],
        "tagged": citation.tagged,
    }


def _citation_from_json(data: dict[str, object]) -> Citation:
    refs = tuple(
        SourceRef(r["page"], tuple(r["heading"]))  # type: ignore[index]
        for r in data["refs"]  # type: ignore[union-attr]
    )
    return Citation(
        int(data["point"]),  # type: ignore[call-overload]
        str(data["text"]),
        tuple(data["chunks"]),  # type: ignore[arg-type]
        refs,
        bool(data["tagged"]),
    )


def citation_json(citation: Citation) -> dict[str, object]:
    """The JSON shape of a citation (for the CLI's --json and for storage)."""
    return _citation_json(citation)


def citation_from_json(data: dict[str, object]) -> Citation:
    """A citation back from its JSON shape (a stored final summary's citations)."""
    return _citation_from_json(data)
