"""What a GGUF file name says: its quantization label and whether it is one part of a split
model (`name-00001-of-00003.gguf`). Pure string work, shared by the catalogue and the hub."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

# Longest labels first, so "Q4_K_M" wins over "Q4_K" and "IQ3_XXS" over "IQ3_XS".
_QUANT_RE = re.compile(
    r"(?<![A-Za-z0-9])("
    r"IQ[1-4]_(?:XXS|XS|S|M|NL)|IQ4_NL|IQ4_XS|"
    r"Q[2-8]_K_(?:XL|L|M|S)|Q[2-8]_K|Q[4-8]_[01]|Q2_K_S|"
    r"TQ[12]_0|MXFP4|BF16|F16|F32|FP16|FP32"
    r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_SPLIT_RE = re.compile(r"^(?P<stem>.+)-(?P<part>\d{5})-of-(?P<total>\d{5})\.gguf$", re.IGNORECASE)


def quantization_from_name(filename: str) -> str | None:
    """The quantization label in a file name ("model.Q4_K_M.gguf" -> "Q4_K_M"), upper-cased;
    None when the name carries none."""
    match = _QUANT_RE.search(PurePath(filename).name)
    if match is None:
        return None
    label = match.group(1).upper()
    return {"FP16": "F16", "FP32": "F32"}.get(label, label)


@dataclass(frozen=True)
class SplitName:
    stem: str
    part: int
    total: int


def split_name(filename: str) -> SplitName | None:
    """Parse `stem-0000K-of-0000N.gguf`; None for a file that is not part of a split."""
    match = _SPLIT_RE.match(PurePath(filename).name)
    if match is None:
        return None
    part, total = int(match["part"]), int(match["total"])
    if not 1 <= part <= total:
        return None
    return SplitName(match["stem"], part, total)


@dataclass(frozen=True)
class FileGroup:
    """One model as a set of files: a single file, or the parts of a split model in order.
    `complete` is False when some parts are missing."""

    key: str
    files: tuple[str, ...]
    total_parts: int

    @property
    def first(self) -> str:
        return self.files[0]

    @property
    def complete(self) -> bool:
        return len(self.files) == self.total_parts


def group_split_files(names: Iterable[str]) -> list[FileGroup]:
    """Group GGUF file names (or paths as strings) into models; split parts become one group
    keyed by the first part's name. Order follows the first appearance of each model."""
    groups: dict[str, list[tuple[int, str]]] = {}
    totals: dict[str, int] = {}
    for name in names:
        split = split_name(name)
        if split is None:
            groups.setdefault(name, []).append((1, name))
            totals[name] = 1
            continue
        parent = str(PurePath(name).parent)
        key = f"{parent}/{split.stem}-of-{split.total:05d}"
        groups.setdefault(key, []).append((split.part, name))
        totals[key] = split.total
    result = []
    for key, parts in groups.items():
        ordered = tuple(name for _, name in sorted(set(parts)))
        result.append(FileGroup(key=ordered[0], files=ordered, total_parts=totals[key]))
    return result
