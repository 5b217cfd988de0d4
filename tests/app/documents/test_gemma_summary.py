from __future__ import annotations

from pathlib import Path

import pytest

from app.documents.extract import extract_document
from app.documents.options import SummaryOptions
from app.documents.summarizer import Summarizer
from inference.protocol import EngineSettings
from inference.sync_client import SyncEngine
from storage.database import Database
from storage.documents import DocumentRepository

TEXT = """# The village well

The village of Ashford got its first public well in 1852. Before that, families carried
water from the river, a walk of two miles.

## Repairs

In 1901 the well ran dry during a drought. The council paid for a deeper shaft, which
was finished in the spring of 1902 and still gives water today.
"""


@pytest.mark.slow
def test_real_model_summarizes_a_short_document(gemma_model: Path, tmp_path: Path) -> None:
    path = tmp_path / "well.md"
    path.write_text(TEXT, encoding="utf-8")
    document = extract_document(path)
    db, _ = Database.open(tmp_path / "hearth.db")
    try:
        settings = EngineSettings(model_path=str(gemma_model), n_ctx=2048)
        with SyncEngine.start(settings) as engine:
            streamed: list[str] = []
            result = Summarizer(engine, DocumentRepository(db)).summarize(
                document, SummaryOptions(length=40), on_delta=streamed.append
            )
    finally:
        db.close()
    assert result.chunks == 1 and len(result.requests) == 1
    assert result.text and "".join(streamed).strip() == result.text
    assert result.citations and all(c.refs for c in result.citations)
    assert result.requests[0].completion_tokens > 0
