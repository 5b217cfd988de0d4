"""Each point of a summary cites the few pages that support it, best first (issue 10, item
14: every line of a 36-page PDF's summary was cited "[p. 1] … [p. 6] (+30 more)")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.documents.extract import extract_document
from app.documents.options import SummaryOptions
from app.documents.summarizer import Summarizer
from app.documents.summary_text import NO_SOURCE, linked_markdown, plain_markdown
from inference.protocol import EngineSettings
from inference.sync_client import SyncEngine
from storage.database import Database
from storage.documents import DocumentRepository
from tests.support.document_builders import make_pdf
from tests.support.recording_engine import RecordingEngine, kind_of
from ui.documents.rows import cite_link

SHORT = SummaryOptions(length=60, style="bullets", language="en")
TOWN_NAMES = (
    "Ashford Bramley Carlow Dunmore Elgin Fenwick Garvagh Harlow Ilkley Jarrow Kelso Lanark "
    "Moffat Nairn Oban Penrith Quorn Ripon Selby Thirsk Ullapool Ventnor Wigan Yarm Zennor "
    "Alston Bude Cromer Dufftown Eyam Filey Girvan Hexham Irvine Jedburgh Keswick"
)
TOWNS = TOWN_NAMES.split()
CROP_NAMES = (
    "barley oats rye wheat flax hops kale leeks onions turnips carrots beans peas cabbages "
    "apples pears plums cherries quinces damsons medlars walnuts hazelnuts chestnuts "
    "strawberries raspberries gooseberries currants rhubarb parsnips beets radishes "
    "potatoes swedes marrows pumpkins"
)
CROPS = CROP_NAMES.split()


def page(number: int) -> str:
    """A page about one town: its words (town, crop, figures) appear on no other page."""
    town, crop = TOWNS[number - 1], CROPS[number - 1]
    return (
        f"The market of {town} sold {number * 137} baskets of {crop} in the autumn. "
        f"Farmers around {town} planted {crop} on {number * 11} acres of land. "
        f"The {town} guild kept records of the {crop} harvest for many years. "
    ) * 3


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DocumentRepository]:
    db, _ = Database.open(tmp_path / "hearth.db")
    yield DocumentRepository(db)
    db.close()


def test_a_point_cites_the_pages_that_support_it_and_an_unsupported_one_says_so(
    tiny_model: Path, store: DocumentRepository, tmp_path: Path
) -> None:
    path = make_pdf(tmp_path / "towns.pdf", [page(n) for n in range(1, 37)])
    document = extract_document(path)
    assert document.pages == 36
    final = (
        # Untagged, as a base model writes: found by its words.
        f"- The market of Elgin sold {5 * 137} baskets of flax.\n"
        # Tagged with the whole range its partial came from, as a small model writes.
        f"- Farmers around Oban planted apples on {15 * 11} acres [c0-c40].\n"
        # Two towns in one point: both pages, best first (Keswick has more words here).
        f"- Keswick guild records of pumpkins on {36 * 11} acres; Alston sold raspberries [c0].\n"
        # Nothing in the document says this.
        "- Zebras migrate across the savanna every winter.\n"
    )
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=1024)) as engine:
        recorder = RecordingEngine(engine)
        # The tiny model writes noise: script the final reply.
        recorder.reply_for = lambda prompt: final if kind_of(prompt) == "final" else None
        result = Summarizer(recorder, store).summarize(document, SHORT)
    assert result.chunks > 3

    elgin, oban, two, zebras = result.citations
    assert [r.label for r in elgin.refs] == ["p. 5"]
    assert [r.label for r in oban.refs] == ["p. 15"] and oban.tagged
    assert [r.label for r in two.refs][:2] == ["p. 36", "p. 26"]
    assert zebras.refs == () and zebras.chunk_ids == ()
    assert all(len(c.refs) <= 3 for c in result.citations)

    markdown, links = linked_markdown(result.text, result.citations, cite_link)
    assert "(+" not in markdown and len(links) == sum(len(c.refs) for c in result.citations)
    assert markdown.splitlines()[-1].endswith(f"*{NO_SOURCE}*")
    plain = plain_markdown(result.text, result.citations).splitlines()
    assert plain[0].endswith("flax. (p. 5)")
    assert plain[-1].endswith(NO_SOURCE)
