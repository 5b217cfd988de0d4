"""One small module per file format; each returns sections (and a title when it has one)."""
