"""Small shared building blocks: atomic file writes, untrusted JSON reading, the
instruction-echo check used by summaries and translations, and Markdown block structure
(headings, code blocks) for the segmenter, the document reader and the chat export."""
