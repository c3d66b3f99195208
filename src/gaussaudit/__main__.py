"""``python -m gaussaudit``."""

import sys

from .cli import main

sys.exit(main())
