"""Small shared building blocks: atomic file writes, untrusted JSON reading, the
instruction-echo check used by summaries and translations."""
