"""``python -m graphrnn``: the same as the ``graphrnn`` command."""
import sys

from .cli import main

sys.exit(main())
