"""Hearth's API server run by the window (issue 14): a front over the window's engine, and the
presenter of the API server dialog and its status-bar indicator."""
