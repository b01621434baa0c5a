"""nbshelf: a desktop library of Jupyter notebooks for isolated workstations.

The package root is the headless core; ``nbshelf.ui`` is the only place Qt appears.
"""

__version__ = "0.1.0"
