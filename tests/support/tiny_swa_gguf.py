"""A tiny random-weight Gemma 3 GGUF: a sliding-window model (every sixth layer global, the
rest attending to the last `window` positions) that loads in milliseconds, so the paths that
depend on llama.cpp's sliding-window cache (kv_memory.holds_prefix, kept states, cut-backs)
are tested in every run, not only on the real Gemma in slow tests. Output is gibberish;
greedy decoding is deterministic for a given seed."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

from tests.support.tiny_gguf import (
    DEFAULT_SPECIAL_TOKENS,
    _random,
    add_tokenizer,
    build_vocabulary,
)


def build_tiny_swa_model(
    path: Path,
    *,
    window: int = 16,
    n_layer: int = 6,
    n_embd: int = 64,
    n_head: int = 4,
    head_dim: int = 32,
    n_ff: int = 128,
    seed: int = 0,
    chat_template: str | None = None,
) -> Path:
    """Write the model to `path` (Gemma 3's tensors and keys, one KV head, llama.cpp's
    default layer pattern for gemma3: layer i is global when i % 6 == 5)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokens, scores, types = build_vocabulary(
        DEFAULT_SPECIAL_TOKENS, bos_token="<s>", eos_token="</s>"
    )
    writer = gguf.GGUFWriter(path, "gemma3")
    writer.add_name("tiny-swa-test")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(2048)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(1)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_sliding_window(window)
    writer.add_rope_freq_base(1_000_000.0)
    add_tokenizer(writer, tokens, scores, types)
    if chat_template is not None:
        writer.add_chat_template(chat_template)

    rng = np.random.default_rng(seed)

    def tensor(name: str, shape: tuple[int, ...], mean: float = 0.0) -> None:
        writer.add_tensor(name, _random(rng, shape, mean=mean))

    # numpy shapes are ggml's ne reversed; the output head is tied to the embedding.
    tensor("token_embd.weight", (len(tokens), n_embd))
    tensor("output_norm.weight", (n_embd,), 1.0)
    q_dim = n_head * head_dim
    for layer in range(n_layer):
        prefix = f"blk.{layer}"
        for norm in ("attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"):
            tensor(f"{prefix}.{norm}.weight", (n_embd,), 1.0)
        tensor(f"{prefix}.attn_q_norm.weight", (head_dim,), 1.0)
        tensor(f"{prefix}.attn_k_norm.weight", (head_dim,), 1.0)
        tensor(f"{prefix}.attn_q.weight", (q_dim, n_embd))
        tensor(f"{prefix}.attn_k.weight", (head_dim, n_embd))
        tensor(f"{prefix}.attn_v.weight", (head_dim, n_embd))
        tensor(f"{prefix}.attn_output.weight", (n_embd, q_dim))
        tensor(f"{prefix}.ffn_gate.weight", (n_ff, n_embd))
        tensor(f"{prefix}.ffn_up.weight", (n_ff, n_embd))
        tensor(f"{prefix}.ffn_down.weight", (n_embd, n_ff))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
