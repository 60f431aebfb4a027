"""``python -m inference.cli``: the ``darkportal`` command without its console script."""

import sys

from inference.cli import main

sys.exit(main())
