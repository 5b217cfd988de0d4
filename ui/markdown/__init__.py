"""Markdown made safe to show: whole-text rendering and the block splitter for streamed text."""
