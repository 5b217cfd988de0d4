"""The bundle's entry script (PyInstaller runs it as __main__): `hearth` as `app.entry.main`.

The engine runs in a `spawn`ed process. A frozen executable has no Python to spawn, so
multiprocessing starts the bundle's own executable again with its own arguments;
freeze_support() recognises them and runs the engine instead of the command line. It comes
before Hearth's imports so an engine process loads only what the engine needs.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()

    from app.entry import main

    sys.exit(main())
