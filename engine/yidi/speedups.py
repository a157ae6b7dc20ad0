"""The speed-ups that serve only a cache miss — one boundary, one off-switch.

Reading and checking a policy tree from its YAML (a cold `Engine.load`, an
officer's `yidi validate` after an edit) has two faster second paths beside
the reference ones that explain problems:

  - `source`: libyaml composes plain YAML ten times faster than PyYAML's
    Python composer (which still reads anything unusual and every error);
  - `schema_compiled`: a generated yes/no check of a policy file against its
    JSON Schema, so jsonschema only walks files with a problem to explain.

Measured on the shipped tree (issue 12): `yidi validate` with no cache takes
~1.4 s with both, ~2.0 s without libyaml, ~1.55 s without the compiled
schema check; a cold engine load ~0.27 s with both and ~0.6 s without — an
officer would notice, so they stay. Each keeps a property test against its
reference path (tests/test_source_fast.py, tests/test_schema_compiled.py).

Setting YIDI_NO_SPEEDUPS=1 in the environment turns both off: the
reference paths then do all the work (to rule a speed-up out when a
message looks wrong). The cache itself (policy/cache.py) and the parser
caches are not speed-ups of this kind: they avoid the work altogether.
"""

from __future__ import annotations

import os

ENABLED: bool = os.environ.get("YIDI_NO_SPEEDUPS", "") not in ("1", "true", "yes")
