"""`python -m yidi.cli …` is the same as the `yidi` command."""

import sys

from . import main

sys.exit(main())
