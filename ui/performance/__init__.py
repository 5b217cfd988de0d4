"""The Performance page: every reply's figures in a table, speed plots per model."""
