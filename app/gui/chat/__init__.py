"""Chat presenters: the conversation controller and the parts that serve it (files,
sampling, titles, context budget, search, presets, history recovery, HTML export)."""
