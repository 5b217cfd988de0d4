from __future__ import annotations

from inference.process.text_stream import TextAssembler


def feed_all(assembler: TextAssembler, pieces: list[bytes]) -> str:
    out = "".join(assembler.feed(p) for p in pieces)
    return out + assembler.finish()


def test_multibyte_characters_split_across_tokens_come_out_whole() -> None:
    data = "héllo 世界 🙂".encode()
    pieces = [data[i : i + 1] for i in range(len(data))]  # one byte per token
    assembler = TextAssembler()
    deltas = [assembler.feed(p) for p in pieces]
    assert "".join(deltas) + assembler.finish() == "héllo 世界 🙂"
    assert all("\ufffd" not in d for d in deltas)


def test_invalid_utf8_becomes_replacement_character_instead_of_stalling() -> None:
    assembler = TextAssembler()
    assert assembler.feed(b"ok ") == "ok "
    assert assembler.feed(b"\xff") == "\ufffd"  # shown at once, not held back
    assert assembler.feed(b" more") == " more"
    assert assembler.feed(b"\xe4\xb8") == ""  # incomplete character held
    assert assembler.finish() == "\ufffd"


def test_stop_string_split_across_tokens_is_never_shown() -> None:
    assembler = TextAssembler(stops=("<|user|>",))
    out = feed_all(assembler, [b"Hello <|us", b"er|> ignored"])
    assert out == "Hello "
    assert assembler.stopped
    assert assembler.text == "Hello "


def test_partial_stop_prefix_is_released_when_it_turns_out_not_to_be_a_stop() -> None:
    assembler = TextAssembler(stops=("STOP",))
    assert assembler.feed(b"a ST") == "a "
    assert assembler.feed(b"ART") == "START"
    assert assembler.finish() == ""
    assert assembler.text == "a START"


def test_text_property_equals_concatenated_deltas_for_long_streams() -> None:
    assembler = TextAssembler(stops=("\n\nUser:",))
    pieces = [f"word{i} ".encode() for i in range(5000)]
    out = feed_all(assembler, pieces)
    assert out == assembler.text == "".join(p.decode() for p in pieces)
