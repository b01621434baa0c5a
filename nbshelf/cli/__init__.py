"""The command line, a thin layer over ``Library`` (see ``nbshelf.cli.main``)."""

from nbshelf.cli.main import main

__all__ = ["main"]
