"""``python -m nbshelf``: the same as the ``nbshelf`` command."""

import sys

from nbshelf.cli import main

sys.exit(main())
