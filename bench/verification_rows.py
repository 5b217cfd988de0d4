"""How far a speculative verification's rows are from plain decoding's logits (issue 13).

    PYTHONPATH=. python bench/verification_rows.py [--model PATH] [--flash-attn on|off]
                                                   [--threads N] [--rows 16]

In this process, on the built-in Gemma 3 270M unless --model: the "edit a pasted function"
prompt of bench/speculative.py is evaluated, then the first `--rows` tokens of its pasted code
are decoded one row at a time (plain decoding's steps), then again as one n-row llama_decode
after the prompt (a verification of n-1 drafts), for n = 1 .. --rows.

Figure definitions:
- row drift(n): the largest |logit| difference, over the whole vocabulary and the n rows,
  between a row of the n-row decode and the one-row decode of the same token at the same
  position over the same cache. 0 means bit-identical: a seeded reply is then byte-identical
  to plain decoding's (speculative.py); otherwise a near-tie may tip.
- prefill drift: the same difference for the prompt's last row, read once as one batch and
  once split in two (the prefill's first step short, as prefill_watch.py may make it): how
  far plain decoding already moves with the batching alone, for scale.
No timing: the figures do not depend on the machine's load.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.process import llama_adapter as adapter
from inference.process import llama_rows
from inference.protocol import EngineSettings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speculative import CODE, TASKS, gemma_prompt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--flash-attn", choices=("on", "off"), default="on")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--rows", type=int, default=16)
    args = parser.parse_args()
    model = args.model
    if model is None:
        from app.models.default_model import ensure_default_model

        model = ensure_default_model(Path(tempfile.gettempdir()) / "hearth-bench-rows")
    settings = EngineSettings(
        str(model), n_ctx=2048, n_threads=args.threads, n_threads_batch=args.threads,
        flash_attn=args.flash_attn,
    )  # fmt: skip
    llm = adapter.load_llama(settings)
    n_vocab = llm.n_vocab()

    def row(i: int) -> np.ndarray:
        return np.ctypeslib.as_array(llm._ctx.get_logits_ith(i), shape=(n_vocab,)).copy()

    prompt = llm.tokenize(gemma_prompt(TASKS[3]).encode(), add_bos=True, special=True)
    code = llm.tokenize(CODE.encode(), add_bos=False, special=False)[: args.rows]
    split = max(1, len(prompt) - 8)
    adapter.clear_kv_cache(llm)
    llm.eval(prompt)
    whole = row(-1)
    adapter.clear_kv_cache(llm)
    llm.eval(prompt[:split])
    llm.eval(prompt[split:])
    prefill = float(np.abs(row(-1) - whole).max())
    single = []
    for token in code:
        llama_rows.decode_rows(llm, [token])
        single.append(row(-1))
    drift = []
    for n in range(1, len(code) + 1):
        llama_rows.keep_cached(llm, len(prompt))
        llama_rows.decode_rows(llm, code[:n])
        drift.append(max(float(np.abs(row(i) - single[i]).max()) for i in range(n)))
    print(f"{model.name}, flash attention {args.flash_attn}, {len(prompt)}-token prompt")
    print("row drift by rows: " + ", ".join(f"{n}:{d:.3g}" for n, d in enumerate(drift, 1)))
    print(f"prefill drift ({len(prompt)} rows vs {split}+{len(prompt) - split}): {prefill:.3g}")


if __name__ == "__main__":
    main()
