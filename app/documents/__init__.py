"""Documents: extraction, structure-aware splitting and whole-document summarization.

Plain Python, no Qt: the CLI, a background job and the GUI all drive the same code.
"""
