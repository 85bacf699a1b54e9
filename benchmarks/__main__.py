"""``python -m benchmarks``: see :mod:`benchmarks` and ``python -m benchmarks --help``."""

import os
import sys

from .cli import main

if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. ``python -m benchmarks | head``
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
