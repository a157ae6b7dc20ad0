"""`python -m yidi.cli …` is the same as the `yidi` command."""

from . import run

run()
