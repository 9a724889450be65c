"""``python -m engine.cli``: the command line, as ``policykb``."""

import sys

from . import main

sys.exit(main())
