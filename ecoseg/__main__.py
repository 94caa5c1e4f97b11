"""``python -m ecoseg`` is the ``ecoseg`` command."""

import sys

from ecoseg.cli import main

sys.exit(main())
