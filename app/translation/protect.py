"""Protected spans: text a translation must carry over unchanged (code, URLs, e-mail
addresses, numbers with units, placeholders, HTML tags).

They are swapped for opaque markers such as ⟦1⟧ before the model sees the text and put
back afterwards. Markers are numbered per segment, so the same sentence always reaches the
model as the same text (the translation cache depends on that).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MARKER = re.compile(r"⟦(\d+)⟧")

_UNITS = (
    r"km/h|mph|kWh|kHz|MHz|GHz|Hz|KiB|MiB|GiB|TiB|kB|KB|MB|GB|TB|px|pt|rem|em|ms|µs|ns|"
    r"km|cm|mm|µm|nm|kg|mg|lbs|lb|oz|ml|mL|min|mAh|kW|m|g|l|L|s|h|V|W|A"
)
_AMOUNT = r"\d+(?:[.,]\d+)*"

# Order matters: earlier alternatives win where spans overlap (a URL inside inline code
# stays part of the code span).
_COMMON = [
    r"[⟦⟧]",  # a source that contains marker brackets must not be able to forge a marker
    r"<!--.*?-->",
    r"</?[A-Za-z][\w:.-]*(?:\s+[^<>]*?)?/?>",  # HTML/XML tags
    r"(?:https?|ftp)://[^\s<>()\[\]{}\"']*[^\s<>()\[\]{}\"'.,;:!?]",
    r"\bwww\.[^\s<>()\[\]{}\"']*[^\s<>()\[\]{}\"'.,;:!?]",
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    r"\{\{[^{}\n]*\}\}",
    r"\{[\w.:!\[\]-]*\}",  # {name}, {0}, {}, {x:>4}
    r"%(?:\([\w.]+\))?[-+#0]*\d*(?:\.\d+)?[sdifrxXeEgGcuo]",  # printf / %(x)s
    r"[$€£¥]\s?" + _AMOUNT,
    _AMOUNT + r"\s?(?:%|‰|°[CF]?|[€$£¥]|(?:" + _UNITS + r")\b)",
]
_MARKDOWN_ONLY = [
    r"(`+).+?(?<!`)\1(?!`)",  # inline code, any number of backticks
    r"\]\([^()\s]*(?:\([^()\s]*\)[^()\s]*)*(?:\s+\"[^\"]*\")?\)",  # link target ](url "t")
]
_PLAIN = re.compile("|".join(_COMMON), re.DOTALL)
_MARKDOWN = re.compile("|".join(_MARKDOWN_ONLY + _COMMON), re.DOTALL)


@dataclass(frozen=True)
class Protected:
    text: str  # with markers ⟦1⟧, ⟦2⟧, … in place of the spans
    spans: tuple[str, ...]  # spans[i - 1] is what ⟦i⟧ stands for


@dataclass(frozen=True)
class Restored:
    text: str
    problems: tuple[str, ...]  # plain-words notes: markers dropped, duplicated or invented


def protect(text: str, *, markdown: bool = True) -> Protected:
    spans: list[str] = []

    def swap(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"⟦{len(spans)}⟧"

    pattern = _MARKDOWN if markdown else _PLAIN
    return Protected(pattern.sub(swap, text), tuple(spans))


def renumber(text: str, spans: Sequence[str]) -> Protected:
    """Number the markers of a slice of protected text from 1 again, in reading order."""
    local: list[str] = []

    def swap(match: re.Match[str]) -> str:
        local.append(spans[int(match.group(1)) - 1])
        return f"⟦{len(local)}⟧"

    return Protected(MARKER.sub(swap, text), tuple(local))


def restore(translated: str, spans: Sequence[str]) -> Restored:
    """Put the spans back. A marker the model dropped is appended at the end so nothing
    protected is lost; duplicates are restored each time; unknown markers are removed."""
    problems: list[str] = []
    seen: dict[int, int] = {}

    def swap(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if not 1 <= number <= len(spans):
            problems.append(f"the model added a marker {match.group(0)} that was not in the source")
            return ""
        seen[number] = seen.get(number, 0) + 1
        return spans[number - 1]

    text = MARKER.sub(swap, translated)
    missing = [n for n in range(1, len(spans) + 1) if n not in seen]
    for number, count in sorted(seen.items()):
        if count > 1:
            problems.append(f"{spans[number - 1]!r} appears {count} times in the translation")
    for number in missing:
        problems.append(f"{spans[number - 1]!r} was dropped by the model; added at the end")
    if missing:
        text = text.rstrip() + " " + " ".join(spans[n - 1] for n in missing)
    return Restored(text, tuple(problems))
