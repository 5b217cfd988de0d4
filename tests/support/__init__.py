"""Helpers shared by the test suite (fixture builders that need no network)."""
