"""The languages Hearth offers for translation: ISO 639-1 code, English name, endonym.

Every code here is also one the offline detector (app.languages.detect) knows, so a
detected language can always be shown in the pickers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1
    name: str  # English name: the name the user reads (the interface is in English), and
    # the one used in prompts, as models follow English instructions best
    endonym: str  # the language's name for itself, shown beside the English one

    @property
    def label(self) -> str:
        """What a language list shows: both names where they differ ("German — Deutsch"),
        so a reader of either finds it."""
        if self.endonym.casefold() == self.name.casefold():
            return self.name
        return f"{self.name} — {self.endonym}"


LANGUAGES: tuple[Language, ...] = (
    Language("ar", "Arabic", "العربية"),
    Language("bg", "Bulgarian", "български"),
    Language("bn", "Bengali", "বাংলা"),
    Language("ca", "Catalan", "català"),
    Language("cs", "Czech", "čeština"),
    Language("da", "Danish", "dansk"),
    Language("de", "German", "Deutsch"),
    Language("el", "Greek", "Ελληνικά"),
    Language("en", "English", "English"),
    Language("es", "Spanish", "español"),
    Language("et", "Estonian", "eesti"),
    Language("fa", "Persian", "فارسی"),
    Language("fi", "Finnish", "suomi"),
    Language("fr", "French", "français"),
    Language("he", "Hebrew", "עברית"),
    Language("hi", "Hindi", "हिन्दी"),
    Language("hr", "Croatian", "hrvatski"),
    Language("hu", "Hungarian", "magyar"),
    Language("id", "Indonesian", "Bahasa Indonesia"),
    Language("it", "Italian", "italiano"),
    Language("ja", "Japanese", "日本語"),
    Language("ko", "Korean", "한국어"),
    Language("lt", "Lithuanian", "lietuvių"),
    Language("lv", "Latvian", "latviešu"),
    Language("nb", "Norwegian Bokmål", "norsk bokmål"),
    Language("nl", "Dutch", "Nederlands"),
    Language("pl", "Polish", "polski"),
    Language("pt", "Portuguese", "português"),
    Language("ro", "Romanian", "română"),
    Language("ru", "Russian", "русский"),
    Language("sk", "Slovak", "slovenčina"),
    Language("sl", "Slovenian", "slovenščina"),
    Language("sr", "Serbian", "српски"),
    Language("sv", "Swedish", "svenska"),
    Language("th", "Thai", "ไทย"),
    Language("tr", "Turkish", "Türkçe"),
    Language("uk", "Ukrainian", "українська"),
    Language("vi", "Vietnamese", "Tiếng Việt"),
    Language("zh", "Chinese", "中文"),
)

_BY_CODE: dict[str, Language] = {language.code: language for language in LANGUAGES}


class UnknownLanguageError(ValueError):
    pass


def language(code_or_name: str) -> Language:
    """Look a language up by code, English name or endonym (case-insensitive)."""
    key = code_or_name.strip().casefold()
    if key in _BY_CODE:
        return _BY_CODE[key]
    for candidate in LANGUAGES:
        if key in (candidate.name.casefold(), candidate.endonym.casefold()):
            return candidate
    known = ", ".join(sorted(_BY_CODE))
    raise UnknownLanguageError(f"unknown language {code_or_name!r} (known codes: {known})")


def in_reading_order() -> list[Language]:
    """The languages in the order a list shows them: by the name the user reads, not by
    code (which put "Deutsch" between "dansk" and "Ελληνικά")."""
    return sorted(LANGUAGES, key=lambda lang: lang.name.casefold())


def is_known(code: str) -> bool:
    return code in _BY_CODE
