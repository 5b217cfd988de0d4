from __future__ import annotations

import pytest

from app.languages.codes import LANGUAGES, is_known, language
from app.languages.detect import EMPTY, TOO_SHORT, detect

SAMPLES = {
    "en": "The weather was lovely, so we walked along the river until sunset.",
    "de": "Guten Morgen, wie geht es dir heute? Ich habe gut geschlafen.",
    "fr": "Bonjour tout le monde, comment ça va ? Nous partons demain matin.",
    "es": "¿Dónde está la estación de tren? Necesito llegar a Madrid hoy.",
    "pl": "Dziękuję bardzo za pomoc. Do zobaczenia jutro w pracy.",
    "ru": "Это очень хорошая книга, я читаю её второй раз.",
    "ja": "今日はとても良い天気ですね。散歩に行きましょう。",
    "zh": "这是一个很好的问题，我们明天再讨论。",
    "it": "Il gatto dorme sul divano tutto il giorno.",
    "nl": "Het weer is vandaag erg mooi en we gaan fietsen.",
}


@pytest.mark.parametrize(("code", "text"), sorted(SAMPLES.items()))
def test_detects_known_samples(code: str, text: str) -> None:
    result = detect(text)
    assert result.code == code, result
    assert result.message == ""
    assert 0 < result.confidence <= 1


def test_long_single_language_text_is_not_called_mixed() -> None:
    text = " ".join([SAMPLES["en"]] * 3) + " Then we went home and cooked a simple dinner."
    assert detect(text).code == "en"


def test_mixed_languages_are_undecided_with_a_reason() -> None:
    text = (
        "The quick brown fox jumps over the lazy dog while the farmer watches. "
        "Der schnelle braune Fuchs springt über den faulen Hund, während der Bauer zuschaut."
    )
    result = detect(text)
    assert result.code is None
    assert "English" in result.message and "German" in result.message


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_text(text: str) -> None:
    result = detect(text)
    assert result.code is None and result.message == EMPTY


@pytest.mark.parametrize("text", ["ok", "Hi!", "42 kg", "Hola amigo"])
def test_too_short_text_asks_for_the_source_language(text: str) -> None:
    result = detect(text)
    assert result.code is None
    assert result.message == TOO_SHORT


def test_language_table() -> None:
    assert len(LANGUAGES) >= 30
    assert len({lang.code for lang in LANGUAGES}) == len(LANGUAGES)
    assert language("de").endonym == "Deutsch"
    assert language("Japanese").endonym == "日本語"
    assert language("français").code == "fr"
    assert is_known("ja") and not is_known("xx")
    with pytest.raises(ValueError, match="unknown language"):
        language("Klingon")


def test_a_short_clear_sentence_is_not_called_mixed() -> None:
    # lingua's word-level split labels part of this sentence German; the whole is plainly English.
    result = detect("This is clearly a sentence written in English.")
    assert result.code == "en" and result.message == ""
