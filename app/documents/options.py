"""What a user chooses for a summary: length, style and output language."""

from __future__ import annotations

import json
from dataclasses import dataclass

LENGTH_WORDS = {"short": 100, "medium": 250, "long": 600}
STYLES = ("bullets", "paragraph", "executive", "key_points")

# ISO 639-1 codes named in the prompt; any other code is passed through as is, which capable
# models still understand ("Answer in language 'eu'").
LANGUAGES = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "ca": "Catalan",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "nb": "Norwegian Bokmål",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sr": "Serbian",
    "sv": "Swedish",
    "th": "Thai",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "zh": "Chinese",
}


# The output language when the user wants the document's own and it could not be detected:
# the prompts then say "write in the language of the document".
SAME_AS_DOCUMENT = "auto"


def language_name(code: str) -> str:
    if code == SAME_AS_DOCUMENT:
        return "the language of the document"
    return LANGUAGES.get(code.lower().split("-")[0], code)


@dataclass(frozen=True)
class SummaryOptions:
    length: str | int = "medium"  # "short" | "medium" | "long" | a word target
    style: str = "bullets"
    language: str = "en"

    def __post_init__(self) -> None:
        if isinstance(self.length, str) and self.length not in LENGTH_WORDS:
            raise ValueError(
                f"length must be short, medium, long or a number of words, not {self.length!r}"
            )
        if isinstance(self.length, int) and not 10 <= self.length <= 5000:
            raise ValueError("a word target must be between 10 and 5000")
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {', '.join(STYLES)}, not {self.style!r}")
        if not self.language.strip():
            raise ValueError("the output language is empty")

    @property
    def target_words(self) -> int:
        return self.length if isinstance(self.length, int) else LENGTH_WORDS[self.length]

    def key(self, **extra: object) -> str:
        """Stable text that identifies these options (plus whatever else shapes the output,
        such as the chunk budget) in stored summaries."""
        fields = {"length": self.length, "style": self.style, "language": self.language}
        return json.dumps({**fields, **extra}, sort_keys=True, separators=(",", ":"))
