"""Where yidi's files are: the shipped schemas, policies and examples, and the user's cache folder.

In a source checkout (and an editable install) they are the top-level
`schemas/`, `policies/` and `examples/` folders of the repository, tried first so an
edited file is never shadowed by a stale packaged copy; in an installed
wheel they are package data under `yidi/_data/`. Nothing else is searched.
"""

from __future__ import annotations

import os
import pathlib

_PACKAGE = pathlib.Path(__file__).resolve().parent


def _candidates(name: str) -> list[pathlib.Path]:
    found = []
    if _PACKAGE.parent.name == "engine":  # engine/yidi inside a checkout
        found.append(_PACKAGE.parent.parent / name)
    found.append(_PACKAGE / "_data" / name)
    return found


def data_dir(name: str) -> pathlib.Path:
    """The shipped `schemas`, `policies` or `examples` folder."""
    candidates = _candidates(name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"yidi: shipped folder {name!r} not found; looked in: " + ", ".join(map(str, candidates)))


def schema_file(name: str) -> pathlib.Path:
    """A shipped JSON Schema file by name (`claim.schema.json`, …)."""
    candidates = [folder / name for folder in _candidates("schemas")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"schema {name} not found; looked in: " + ", ".join(map(str, candidates)))


def user_cache_dir() -> pathlib.Path:
    """The user's own cache folder for yidi (`$XDG_CACHE_HOME/yidi`, else `~/.cache/yidi`)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(pathlib.Path.home() / ".cache")
    return pathlib.Path(base) / "yidi"
