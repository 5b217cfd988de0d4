"""`hearth paths`: where Hearth keeps its data, database, models and settings."""

from __future__ import annotations

import argparse
from typing import Any

from app.config.paths import resolve_paths


def add_parser(commands: Any) -> argparse.ArgumentParser:
    return commands.add_parser(
        "paths", help="print the data folder, database file and models folder"
    )


def run(args: argparse.Namespace) -> int:
    paths = resolve_paths()
    print(f"data folder:   {paths.data_dir}")
    print(f"database file: {paths.database}")
    print(f"models folder: {paths.models_dir}")
    print(f"settings file: {paths.settings_file}")
    return 0
