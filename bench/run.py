"""Entry point of `make bench`: `.venv/bin/python bench/run.py [options]` (see bench/README.md)."""

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, Python puts bench/ on the path; the bench modules import as the `bench` package.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.main import main

    raise SystemExit(main(sys.argv[1:]))
