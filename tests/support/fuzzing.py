"""Hypothesis strategies and settings for fuzzing the parsers of files from outside (issue 15).

Two kinds of damage: `mutated` bytes (a few bytes overwritten, a stretch cut out or
inserted, the tail cut off) for any file, and `rezipped` for the zip-based formats, whose
CRCs would otherwise refuse almost every byte flip before the XML parsers see it: the damage
goes into one member and the package is zipped again, so the readers behind the zip layer
are exercised too. JSON documents are damaged one field at a time (`json_paths`, `replaced`).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Few examples in the suite so it stays fast (HEARTH_FUZZ_EXAMPLES=2000 for a long run);
# derandomized so a failure reproduces. The deadline is the per-example bound ("no hang"):
# a parse of a file of a few KiB takes milliseconds, a hang would take forever.
EXAMPLES = int(os.environ.get("HEARTH_FUZZ_EXAMPLES", "50"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def mutated(data: st.DataObject, original: bytes, *, within: int | None = None) -> bytes:
    """`original` with a few bytes overwritten, maybe a stretch removed or inserted, maybe cut
    short. `within` keeps the damage in the first bytes (a header)."""
    buf = bytearray(original)
    limit = min(len(buf), within or len(buf))
    for _ in range(data.draw(st.integers(0, 8), label="flips")):
        position = data.draw(st.integers(0, limit - 1), label="at")
        buf[position] = data.draw(
            st.sampled_from([0x00, 0xFF, 0x7F, 0x80]) | st.integers(0, 255), label="byte"
        )
    if data.draw(st.booleans(), label="splice"):
        start = data.draw(st.integers(0, limit), label="start")
        end = data.draw(st.integers(start, min(limit, start + 64)), label="end")
        buf[start:end] = data.draw(st.binary(max_size=16), label="inserted")
    if data.draw(st.booleans(), label="cut"):
        del buf[data.draw(st.integers(0, len(buf)), label="length") :]
    return bytes(buf)


def rezipped(data: st.DataObject, package: bytes) -> bytes:
    """`package` (a zip) with one member's bytes `mutated`, zipped again with valid CRCs."""
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        names = source.namelist()
        victim = data.draw(st.sampled_from(names), label="member")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                content = source.read(info)
                if info.filename == victim:
                    content = mutated(data, content)
                target.writestr(info, content)
    return out.getvalue()


def json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a document a value sits at (the document itself included)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from json_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from json_paths(item, (*prefix, index))


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of `document` with the value at `path` replaced."""
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return copy


class UppercaseEngine:
    """A file-format test double for the translator: 'translates' by upper-casing."""

    n_ctx = 4096

    def chat(self, messages: Any, **_kwargs: Any) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(text=messages[-1].content.upper())

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def cancel(self) -> None:
        pass


def with_member(package: bytes, name: str, content: bytes) -> bytes:
    """`package` (a zip) with the member `name` replaced by `content`."""
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                data = content if info.filename == name else source.read(info)
                target.writestr(info, data)
    return out.getvalue()
