"""`python -m yidi …` is the same as the `yidi` command."""

import sys

from .cli import main

sys.exit(main())
