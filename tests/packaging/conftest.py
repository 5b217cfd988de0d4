import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "bundle: builds or runs the PyInstaller bundle (HEARTH_BUNDLE_TEST=1)"
    )
