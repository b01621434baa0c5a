"""The library: the one facade the command line and the app use (``Library``), its writer
lock, and the services it delegates to.

``from nbshelf.library import Library, open_library`` is the way in.
"""

from nbshelf.library.facade import (
    CATALOG_NAME,
    Library,
    default_library_dir,
    library_exists,
    open_library,
)

__all__ = ["CATALOG_NAME", "Library", "default_library_dir", "library_exists", "open_library"]
