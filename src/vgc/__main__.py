"""``python -m vgc``."""

import sys

from .cli import main

sys.exit(main())
