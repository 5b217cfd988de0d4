"""The language a document is written in, from a sample of its text."""

from __future__ import annotations

import traceback

from app.documents.model import Document

DETECT_SAMPLE_CHARS = 3_000
DETECT_MIN_CONFIDENCE = 0.6


def detect_language(document: Document) -> str | None:
    """The document's language (ISO 639-1) from a sample of its text, or None if unsure."""
    from app.languages.detect import detect  # loads lingua's models: seconds, off-GUI only

    text = document.text
    sample = text[:DETECT_SAMPLE_CHARS]
    if len(text) > 3 * DETECT_SAMPLE_CHARS:  # a title page alone can mislead
        middle = len(text) // 2
        sample += "\n" + text[middle : middle + DETECT_SAMPLE_CHARS]
    try:
        detection = detect(sample)
    except Exception:  # detection is a nicety: never fail a document over it
        traceback.print_exc()
        return None
    if detection.code is None and detection.candidates:
        # "Mixed" or short text: a summary is written in one language, the dominant one.
        code, confidence = detection.candidates[0]
        return code if confidence >= DETECT_MIN_CONFIDENCE else None
    return detection.code
