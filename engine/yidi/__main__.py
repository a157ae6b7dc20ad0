"""`python -m yidi …` is the same as the `yidi` command."""

from .cli import run

run()
