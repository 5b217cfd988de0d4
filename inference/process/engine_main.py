"""Entry point of the engine process. Kept import-light: the parent process pickles a
reference to `main` and must not import llama_cpp to do so."""

from __future__ import annotations

from multiprocessing.connection import Connection


def main(conn: Connection) -> None:
    from inference.process.worker import serve  # llama_cpp is imported in the engine process only

    serve(conn)
