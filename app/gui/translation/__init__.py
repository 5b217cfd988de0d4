"""Translation panel presenters: jobs, glossaries, history and the translation model."""
