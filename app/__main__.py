import sys

from app.entry import main

if __name__ == "__main__":  # guarded: the engine process (spawn) re-imports this module
    sys.exit(main())
