"""Passive Qt widgets: they show what the app hands them and emit what the user asks for.

``main_window`` assembles the pages; ``widgets`` and ``markdown`` are shared building blocks;
``chat``, ``documents``, ``translation`` and ``models`` hold one feature's widgets each and
never import one another (the import-linter contracts in pyproject.toml say so). Nothing
here imports ``app`` or ``inference``: widgets take plain records and domain types.
"""
