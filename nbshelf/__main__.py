"""``python -m nbshelf``: the same as the ``nbshelf`` command."""

import sys

from nbshelf.cli.main import main

sys.exit(main())
