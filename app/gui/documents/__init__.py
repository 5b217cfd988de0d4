"""Documents page presenters: the queue of documents, reading, summaries and their rows."""
