"""How whole-document summarization scales with length, measured in one run.

Run:  .venv/bin/python bench/summarize_scaling.py [--model PATH] [--pages 10 100 500]
                                                 [--n-ctx 1024] [--length 60]

For generated PDFs of each size (extracted, split, summarized end to end, fresh store), each
size in a fresh process of its own, so one size's peak memory cannot hide in another's:
  1. pipeline overhead: total wall time / the sum of the engine's own prefill + decode time
     (its clock around the token loop) for the same requests, as a percentage above it
     (goal <= 10 %)
  2. peak RSS of the process that runs the pipeline (the GUI process in the app; the
     engine is a process of its own), at start and at the end (goal: flat in size)
  3. seconds per page, and its ratio to the smallest document's (goal: ~1.0, i.e. linear)
  4. cancel: from cancel() during the job to the job's end, in ms (goal: under 1,000)
The default model is the tiny random-weight test model (built on the fly): it gives a fair
overhead figure because its requests are fast, so any pipeline cost shows up.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.documents.extract import extract_document
from app.documents.options import SummaryOptions
from app.documents.summarizer import Summarizer
from app.documents.summary_types import SummaryCancelled
from inference.protocol import ChatMessage, EngineSettings
from inference.sync_client import SyncEngine
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


def measure(pages: int, model: Path, args: argparse.Namespace, work: Path) -> dict[str, float]:
    """One size, in this (fresh) process: the figures for one row of the table."""
    options = SummaryOptions(length=args.length)
    settings = EngineSettings(
        model_path=str(model), n_ctx=args.n_ctx, n_gpu_layers=args.gpu_layers, seed=0
    )
    pdf = make_pdf(work / f"doc-{pages}.pdf", pages)
    with SyncEngine.start(settings) as engine:
        # A fresh engine's first request pays one-off allocations; the app's engine is warm.
        engine.chat([ChatMessage("user", "Hello")], max_tokens=4)
        engine.count_tokens("warm up")
        rss_start = peak_rss_mib()
        db, _ = Database.open(work / f"bench-{pages}.db")
        try:
            began = time.perf_counter()
            document = extract_document(pdf)
            extracted = time.perf_counter()
            result = Summarizer(engine, DocumentRepository(db)).summarize(document, options)
            total = time.perf_counter() - began
        finally:
            db.close()
        rss_end = peak_rss_mib()
        cancel_ms = measure_cancel(engine, document, options, work / f"cancel-{pages}.db")
    engine_s = sum(t.engine_ms for t in result.requests) / 1000
    return {
        "pages": pages,
        "chunks": result.chunks,
        "requests": len(result.requests),
        "extract_s": extracted - began,
        "total_s": total,
        "engine_s": engine_s,
        "rss_start": rss_start,
        "rss_end": rss_end,
        "tokens_in": sum(t.prompt_tokens for t in result.requests),
        "tokens_out": sum(t.completion_tokens for t in result.requests),
        "cancel_ms": cancel_ms,
    }


def measure_cancel(
    engine: SyncEngine, document: object, options: SummaryOptions, db_path: Path
) -> float:
    """Start the same summary on a fresh store, cancel it once its second request is under
    way, and time cancel() → the job's end."""
    db, _ = Database.open(db_path)
    summarizer = Summarizer(engine, DocumentRepository(db))
    asked = threading.Event()
    ended: list[float] = []

    def job() -> None:
        try:
            summarizer.summarize(
                document,  # type: ignore[arg-type]
                options,
                on_progress=lambda p: asked.set() if p.requests_done >= 1 else None,
            )
        except SummaryCancelled:
            pass
        ended.append(time.perf_counter())

    thread = threading.Thread(target=job)
    thread.start()
    asked.wait(600)
    time.sleep(0.05)  # into the next request
    cancelled = time.perf_counter()
    summarizer.cancel()
    thread.join()
    db.close()
    return (ended[0] - cancelled) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="GGUF model (default: tiny test model)")
    parser.add_argument("--pages", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--n-ctx", type=int, default=1024)
    parser.add_argument("--length", type=int, default=60, help="summary word target")
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: one size
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one is not None:
        print(json.dumps(measure(args.one, args.model, args, args.work)))
        return 0

    work = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    model = args.model
    if model is None:
        from tests.support.tiny_gguf import build_tiny_model

        model = build_tiny_model(work / "tiny.gguf", chat_template=CHATML)
    print(f"model: {model.name}  n_ctx: {args.n_ctx}  summary: ~{args.length} words")
    print(
        f"{'pages':>6} {'chunks':>6} {'reqs':>5} {'extract s':>9} {'total s':>8} "
        f"{'engine s':>8} {'overhead':>8} {'s/page':>7} {'linear':>6} {'RSS start':>9} "
        f"{'RSS peak':>8} {'in/page':>7} {'out/page':>8} {'pipeline ms/page':>16} "
        f"{'cancel ms':>9}"
    )
    base_per_page: float | None = None
    for pages in args.pages:
        child = [sys.executable, __file__, "--one", str(pages), "--model", str(model)]
        child += ["--n-ctx", str(args.n_ctx), "--length", str(args.length)]
        child += ["--gpu-layers", str(args.gpu_layers), "--work", str(work)]
        out = subprocess.run(child, check=True, capture_output=True, text=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        total, engine_s = row["total_s"], row["engine_s"]
        overhead = (total - engine_s) / engine_s * 100 if engine_s else float("nan")
        per_page = total / pages
        base_per_page = base_per_page or per_page
        print(
            f"{pages:>6} {row['chunks']:>6} {row['requests']:>5} "
            f"{row['extract_s']:>9.2f} {total:>8.2f} {engine_s:>8.2f} {overhead:>7.1f}% "
            f"{per_page:>7.3f} {per_page / base_per_page:>6.2f} {row['rss_start']:>9.1f} "
            f"{row['rss_end']:>8.1f} "
            f"{row['tokens_in'] / pages:>7.0f} {row['tokens_out'] / pages:>8.1f} "
            f"{(total - engine_s) * 1000 / pages:>16.1f} {row['cancel_ms']:>9.0f}",
            flush=True,
        )
    print("overhead = (total − engine prefill+decode) / engine; linear = s/page ÷ first row's")
    print("RSS (MiB): the pipeline process's peak with the engine loaded, and after the job")
    # The model's own time per page follows how much it reads and writes per page (in/page,
    # out/page: a real model's summaries vary in length); the pipeline's share is the
    # pipeline-ms/page column, which a linear pipeline keeps flat.
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
