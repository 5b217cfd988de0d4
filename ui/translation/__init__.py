"""The Translate page: source and result boxes, glossary, history, file drops, term marks."""
