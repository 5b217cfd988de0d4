"""The model manager's fixtures live in tests/support/model_hub.py, shared with the CLI and
Models-page tests; every test here gets them (isolated_home is autouse)."""

from tests.support.model_hub import hub, isolated_home, paths, tiny_bytes

__all__ = ["hub", "isolated_home", "paths", "tiny_bytes"]
