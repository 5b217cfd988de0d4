"""How whole-document summarization scales with length, measured in one run.

Run:  .venv/bin/python bench/summarize_scaling.py [--model PATH] [--pages 10 100 500]
                                                 [--n-ctx 1024] [--length 60]

For generated PDFs of each size (extracted, split, summarized end to end, fresh store):
  1. pipeline overhead: total wall time / the sum of the engine's own prefill + decode time
     (llama.cpp counters) for the same requests, as a percentage above it (goal <= 10 %)
  2. peak RSS of this (the calling, GUI-side) process, before and after (goal: flat in size)
  3. seconds per page, and its ratio to the smallest document's (goal: ~1.0, i.e. linear)
The default model is the tiny random-weight test model (built on the fly): it gives a fair
overhead figure because its requests are fast, so any pipeline cost shows up.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.documents.extract import extract_document
from app.documents.options import SummaryOptions
from app.documents.summarizer import Summarizer
from inference.protocol import EngineSettings
from inference.sync_engine import SyncEngine
from storage.database import Database
from storage.documents import DocumentRepository

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def peak_rss_mib() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def make_pdf(path: Path, pages: int) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for page in range(1, pages + 1):
        pdf.add_page()
        text = " ".join(
            f"On page {page}, item {n} reports that the {n % 7}th measure rose by {page % 13} "
            "percent over the quarter."
            for n in range(18)
        )
        pdf.multi_cell(0, 5, text)
    pdf.output(str(path))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="GGUF model (default: tiny test model)")
    parser.add_argument("--pages", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--n-ctx", type=int, default=1024)
    parser.add_argument("--length", type=int, default=60, help="summary word target")
    parser.add_argument("--gpu-layers", type=int, default=0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    model = args.model
    if model is None:
        from tests.support.tiny_gguf import build_tiny_model

        model = build_tiny_model(work / "tiny.gguf", chat_template=CHATML)
    options = SummaryOptions(length=args.length)
    settings = EngineSettings(
        model_path=str(model), n_ctx=args.n_ctx, n_gpu_layers=args.gpu_layers, seed=0
    )
    print(f"model: {model.name}  n_ctx: {args.n_ctx}  summary: ~{args.length} words")
    print(
        f"{'pages':>6} {'chunks':>6} {'reqs':>5} {'extract s':>9} {'total s':>8} "
        f"{'engine s':>8} {'overhead':>8} {'s/page':>7} {'linear':>6} {'peak RSS MiB':>12} "
        f"{'in/page':>7} {'out/page':>8} {'pipeline ms/page':>16}"
    )
    base_per_page: float | None = None
    with SyncEngine.start(settings) as engine:
        for pages in args.pages:
            pdf = make_pdf(work / f"doc-{pages}.pdf", pages)
            db, _ = Database.open(work / f"bench-{pages}.db")
            try:
                began = time.perf_counter()
                document = extract_document(pdf)
                extracted = time.perf_counter()
                result = Summarizer(engine, DocumentRepository(db)).summarize(document, options)
                total = time.perf_counter() - began
            finally:
                db.close()
            engine_s = sum(t.engine_ms for t in result.requests) / 1000
            overhead = (total - engine_s) / engine_s * 100 if engine_s else float("nan")
            per_page = total / pages
            base_per_page = base_per_page or per_page
            print(
                f"{pages:>6} {result.chunks:>6} {len(result.requests):>5} "
                f"{extracted - began:>9.2f} {total:>8.2f} {engine_s:>8.2f} {overhead:>7.1f}% "
                f"{per_page:>7.3f} {per_page / base_per_page:>6.2f} {peak_rss_mib():>12.1f} "
                f"{sum(t.prompt_tokens for t in result.requests) / pages:>7.0f} "
                f"{sum(t.completion_tokens for t in result.requests) / pages:>8.1f} "
                f"{(total - engine_s) * 1000 / pages:>16.1f}",
                flush=True,
            )
    print("overhead = (total − engine prefill+decode) / engine; linear = s/page ÷ first row's")
    # The model's own time per page follows how much it reads and writes per page (in/page,
    # out/page: a real model's summaries vary in length); the pipeline's share is the last
    # column, which a linear pipeline keeps flat.
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
