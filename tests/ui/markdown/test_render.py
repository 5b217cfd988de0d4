from __future__ import annotations

from PySide6.QtGui import QTextDocument
from pytestqt.qtbot import QtBot

from ui.markdown.render import is_allowed_link, render_markdown


def test_raw_html_is_shown_as_text_never_interpreted() -> None:
    html = render_markdown('<script>alert("x")</script>\n\n<b onclick="x()">bold?</b>')
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert "<b " not in html


def test_only_web_and_mail_links_survive() -> None:
    html = render_markdown(
        "[bad](javascript:alert(1)) [file](file:///etc/passwd) [rel](notes.html) "
        "[web](https://example.org) [mail](mailto:a@example.org) [data](data:text/html,x)"
    )
    assert 'href="https://example.org"' in html
    assert 'href="mailto:a@example.org"' in html
    assert "javascript" not in html.lower()
    assert "file:" not in html
    assert "data:" not in html
    assert "notes.html" not in html
    # Refused links keep their words.
    for word in ("bad", "file", "rel", "data"):
        assert word in html


def test_images_become_alt_text_and_nothing_is_loaded(qtbot: QtBot) -> None:
    html = render_markdown(
        "![a cat](file:///etc/passwd) ![](http://tracker.example/x.png) <img src=file:///x>"
    )
    assert "<img" not in html
    assert "a cat" in html
    assert "tracker" not in html
    doc = QTextDocument()
    doc.setHtml(html)
    assert "a cat" in doc.toPlainText()


def test_fenced_code_is_highlighted_monospace_and_keeps_blank_lines() -> None:
    html = render_markdown("```python\ndef f():\n\n    return 1\n```\n")
    assert "<pre" in html and "monospace" in html
    assert 'style="color:' in html  # pygments inline colours
    doc = QTextDocument()
    doc.setHtml(html)
    assert "def f():\n\n    return 1" in doc.toPlainText()


def test_tables_lists_strikethrough() -> None:
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n- x\n- y\n\n~~gone~~")
    assert '<table border="1"' in html and "cellpadding" in html
    assert "<ul>" in html and "<li>x</li>" in html
    assert "<s>gone</s>" in html


def test_unknown_language_falls_back_to_plain_code() -> None:
    html = render_markdown("```no-such-language\nx < y\n```")
    assert "x &lt; y" in html


def test_is_allowed_link() -> None:
    assert is_allowed_link("HTTPS://example.org")
    assert not is_allowed_link(" javascript:alert(1)")
    assert not is_allowed_link("file:///etc/passwd")


def test_a_single_newline_is_a_line_break() -> None:
    """Chat apps show a model's single newlines as line breaks (a poem, an address, steps
    without markup); so does the transcript, streaming or finished (ui/chat/view.py)."""
    assert render_markdown("Roses are red\nViolets are blue") == (
        "<p>Roses are red<br />\nViolets are blue</p>"
    )
    assert "<br" not in render_markdown("```\na\nb\n```")  # code keeps its own newlines
