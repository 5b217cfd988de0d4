"""Opening and chunking a huge plain-text file: time and peak memory against its size.

Run:  .venv/bin/python bench/large_text.py [--megabytes 200] [--engine]

Generates the file in a temporary folder, then, in this (GUI-side) process:
  1. open: extract_document (decode in blocks, hash, word count) — what the reader thread does
  2. tokens: the token count the page shows (exact up to 4 M characters, else ≈ from
     samples) with the tiny test model's tokenizer in its engine process
  3. chunk: split_sections with a budget of 800 tokens, as a summary's first step. By
     default tokens are counted as characters × the ratio measured in step 2, so the figure is
     the splitter's own cost; --engine counts each paragraph with the real tokenizer instead
     (hundreds of thousands of requests: minutes).
Peak RSS is this process's high-water mark after each step, as a multiple of the file size;
the goal is a small constant (the text once, plus one transient copy), not one per step.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.documents.extract import extract_document
from app.documents.splitter import split_sections
from app.documents.token_count import count_document_tokens
from bench.summarize_scaling import CHATML
from inference.protocol import EngineSettings
from inference.sync_client import SyncEngine
from tests.support.document_builders import make_large_text

BUDGET = 800


def peak_rss_bytes() -> int:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--engine", action="store_true", help="chunk with the real tokenizer")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    from tests.support.tiny_gguf import build_tiny_model

    model = build_tiny_model(work / "tiny.gguf", chat_template=CHATML)
    settings = EngineSettings(model_path=str(model), n_ctx=2048, seed=0)
    path, words = make_large_text(work / "huge.txt", args.megabytes)
    size = path.stat().st_size
    with SyncEngine.start(settings) as engine:
        base = peak_rss_bytes()
        print(f"file: {size / 2**20:.0f} MiB, {words:,} words; RSS before: {base / 2**20:.0f} MiB")
        print(f"{'step':<8} {'seconds':>8} {'MB/s':>7} {'peak RSS MiB':>12} {'× file':>7}  result")

        def row(step: str, seconds: float, result: str) -> None:
            peak = peak_rss_bytes()
            print(
                f"{step:<8} {seconds:>8.2f} {size / 2**20 / seconds:>7.0f} "
                f"{peak / 2**20:>12.0f} {(peak - base) / size:>7.2f}  {result}",
                flush=True,
            )

        began = time.perf_counter()
        document = extract_document(path)
        counted_words = document.words
        row("open", time.perf_counter() - began, f"{counted_words:,} words")
        assert counted_words == words, "word count differs"

        began = time.perf_counter()
        tokens, estimated = count_document_tokens(document.text, engine.count_tokens)
        row("tokens", time.perf_counter() - began, f"{'≈' if estimated else ''}{tokens:,}")

        ratio = tokens / len(document.text)
        count = engine.count_tokens if args.engine else (lambda t: math.ceil(len(t) * ratio))
        began = time.perf_counter()
        chunks = split_sections(document.sections, BUDGET, count)
        row("chunk", time.perf_counter() - began, f"{len(chunks):,} chunks of ≤ {BUDGET} tokens")
    print("× file = (peak RSS − RSS before) / file size, cumulative high-water mark")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
