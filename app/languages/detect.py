"""Offline language detection with lingua (its n-gram models ship inside the wheel).

lingua is chosen over langid/langdetect because it is the most accurate on short texts and
can tell where a text switches language. The detector is built lazily, limited to the
languages Hearth offers, and kept for the process: loading the models takes seconds and a
few hundred MB, so call `detect` off the GUI thread. It is thread-safe.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder
from lingua import Language as LinguaLanguage

from app.languages.codes import LANGUAGES

# Below this many letters no detector is reliable ("ok", "Hi!", a number).
MIN_LETTERS = 4
# lingua's high-accuracy confidences spread over close relatives (es/pt, da/nb), so a clear
# sentence scores around 0.6; the margin to the runner-up matters as much as the top value.
MIN_CONFIDENCE = 0.35
MIN_MARGIN = 0.15
# A second language is "mixed in" when it covers at least this share of the words.
MIXED_SHARE = 0.25
# lingua's word-level split mislabels up to three words of a clear short sentence (an
# eight-word English sentence came back as five English and three German words).
MIXED_MIN_WORDS = 4

TOO_SHORT = "The text is too short to tell its language — pick the source language."
UNSURE = "Hearth cannot tell the text's language for sure — pick the source language."
EMPTY = "There is no text to detect a language in."


@dataclass(frozen=True)
class Detection:
    code: str | None  # ISO 639-1, or None when undecided
    confidence: float  # 0..1 for the best candidate
    message: str  # plain-words reason when code is None, else ""
    candidates: tuple[tuple[str, float], ...] = ()  # best first, at most three


_detector: LanguageDetector | None = None
_lock = threading.Lock()
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]+")


def _build() -> LanguageDetector:
    global _detector
    with _lock:
        if _detector is None:
            wanted = [
                LinguaLanguage.from_iso_code_639_1(getattr(IsoCode639_1, lang.code.upper()))
                for lang in LANGUAGES
            ]
            _detector = LanguageDetectorBuilder.from_languages(*wanted).build()
        return _detector


def _code(language: LinguaLanguage) -> str:
    return language.iso_code_639_1.name.lower()


def detect(text: str) -> Detection:
    """Best guess at `text`'s language, or code=None with a reason a user understands."""
    if not text.strip():
        return Detection(None, 0.0, EMPTY)
    if len(_LETTER.findall(text)) < MIN_LETTERS:
        return Detection(None, 0.0, TOO_SHORT)
    detector = _build()
    values = detector.compute_language_confidence_values(text)
    candidates = tuple((_code(v.language), round(v.value, 3)) for v in values[:3])
    if not candidates:
        return Detection(None, 0.0, UNSURE)
    mixed = _mixed_languages(detector, text)
    if len(mixed) > 1:
        names = " and ".join(_english_name(code) for code in mixed)
        message = f"The text mixes {names} — pick the source language."
        return Detection(None, candidates[0][1], message, candidates)
    best, confidence = candidates[0]
    runner_up = candidates[1][1] if len(candidates) > 1 else 0.0
    if confidence < MIN_CONFIDENCE or confidence - runner_up < MIN_MARGIN:
        message = TOO_SHORT if len(_WORD.findall(text)) < 3 else UNSURE
        return Detection(None, confidence, message, candidates)
    return Detection(best, confidence, "", candidates)


def _mixed_languages(detector: LanguageDetector, text: str) -> list[str]:
    """Languages that each cover a real share of the words (best first)."""
    words: dict[str, int] = {}
    for part in detector.detect_multiple_languages_of(text):
        code = _code(part.language)
        words[code] = words.get(code, 0) + part.word_count
    total = sum(words.values())
    if total == 0:
        return []
    ranked = sorted(words.items(), key=lambda item: -item[1])
    return [
        code for code, count in ranked if count >= MIXED_MIN_WORDS and count / total >= MIXED_SHARE
    ]


def _english_name(code: str) -> str:
    for lang in LANGUAGES:
        if lang.code == code:
            return lang.name
    return code
