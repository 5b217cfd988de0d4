"""Translation panel presenters: translation runs, glossaries, history and the translation model."""
