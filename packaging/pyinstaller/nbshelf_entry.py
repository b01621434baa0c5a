"""The bundle's entry point: ``nbshelf.cli.main.main`` behind multiprocessing's freeze support.

The similarity model reads notebooks in ``spawn`` worker processes; in a bundle those workers
are this executable again, and ``freeze_support`` (patched for Linux by PyInstaller's runtime
hook) runs them instead of the command line.
"""

import multiprocessing
import sys

from nbshelf.cli.main import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
