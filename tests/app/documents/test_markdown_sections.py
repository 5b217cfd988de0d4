"""Sections of a Markdown document: at the headings CommonMark reads at the top level."""

from __future__ import annotations

from app.documents.formats.markdown import markdown_sections


def _paths(text: str) -> list[tuple[str, ...]]:
    return [section.heading_path for section in markdown_sections(text)[0]]


def test_headings_nest_by_level_and_the_first_is_the_title() -> None:
    text = "Preface.\n\n# Book\n\n## One\n\nA.\n\n### Deep\n\nB.\n\n## Two\n\nC.\n"
    sections, title = markdown_sections(text)
    assert title == "Book"
    assert [s.heading_path for s in sections] == [
        (),
        ("Book",),
        ("Book", "One"),
        ("Book", "One", "Deep"),
        ("Book", "Two"),
    ]
    assert sections[2].text == "## One\n\nA."  # a section starts with its heading line


def test_closing_hashes_and_hashes_in_the_text() -> None:
    assert _paths("# Learning C# #\n\nText.\n\n## F#\n\nMore.\n") == [
        ("Learning C#",),
        ("Learning C#", "F#"),
    ]


def test_setext_headings_start_sections() -> None:
    # CommonMark (and every Markdown viewer) shows these as headings.
    text = "Guide\n=====\n\nIntro.\n\nInstall\n-------\n\nSteps.\n"
    sections, title = markdown_sections(text)
    assert title == "Guide"
    assert [s.heading_path for s in sections] == [("Guide",), ("Guide", "Install")]
    assert sections[1].text == "Install\n-------\n\nSteps."


def test_no_sections_from_code_quotes_lists_or_empty_headings() -> None:
    text = (
        "# Real\n\n"
        "~~~\n# tilde fence\n```\n# still code\n~~~\n\n"
        "````\n```\n# a shorter fence does not close\n````\n\n"
        "    # indented code\n\n"
        "> # quoted\n\n"
        "- # listed\n\n"
        "#\n\n"
        "#hashtag\n"
    )
    sections, title = markdown_sections(text)
    assert (title, [s.heading_path for s in sections]) == ("Real", [("Real",)])
    assert sections[0].text == text.strip()


def test_up_to_three_spaces_before_a_heading() -> None:
    assert _paths("Intro.\n\n   ## Indented\n\nText.\n") == [(), ("Indented",)]
