"""Qt-free chat domain: the context-budget probe, prompt history, unsaved replies,
chat import and preset files."""
