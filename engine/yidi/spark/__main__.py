"""`python -m yidi.spark …`, also what `spark-submit` runs (docs/spark.md)."""

import sys

try:
    from yidi.spark.cli import main
except ImportError as exc:      # without the extra: say what to install, not a traceback
    print(exc, file=sys.stderr)
    sys.exit(2)

sys.exit(main())
