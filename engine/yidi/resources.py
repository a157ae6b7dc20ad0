"""Where the shipped schemas and policies are.

In an installed wheel they are package data under `yidi/_data/`; in a source
checkout (and an editable install) they are the top-level `schemas/` and
`policies/` folders of the repository. Nothing else is searched.
"""

from __future__ import annotations

import pathlib

_PACKAGE = pathlib.Path(__file__).resolve().parent


def data_dir(name: str) -> pathlib.Path:
    """The shipped `schemas` or `policies` folder."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"yidi: shipped folder {name!r} not found (looked in {_PACKAGE / '_data'} and the source tree)")


def schema_file(name: str) -> pathlib.Path:
    return data_dir("schemas") / name
