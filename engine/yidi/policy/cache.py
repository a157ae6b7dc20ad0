"""On-disk cache of compiled policy sets, keyed by content.

Loading a tree means reading YAML, checking schemas, type-checking and
compiling every expression: a few hundred milliseconds that a CLI call or a
worker process should not pay again for unchanged files. The cache key is a
hash of every policy file (with its path) and of the engine's own code and
schemas, so any change to either builds afresh; a damaged or foreign cache
file is ignored. Only a valid, fully compiled set is ever stored.

The cache holds pickles, which can run code when loaded: it lives in the
user's own cache folder (`~/.cache/yidi`), written with owner-only permissions.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pathlib
import pickle
import tempfile

from ..resources import user_cache_dir

_PACKAGE = pathlib.Path(__file__).resolve().parent.parent


def default_dir() -> pathlib.Path:
    return user_cache_dir()


@functools.lru_cache(maxsize=1)
def engine_fingerprint() -> bytes:
    """Hash of the engine's code, grammar and schemas: a new engine never reads an old cache."""
    from ..resources import data_dir

    digest = hashlib.sha256()
    files = sorted(_PACKAGE.rglob("*.py")) + sorted(_PACKAGE.rglob("*.lark")) + sorted(data_dir("schemas").glob("*.json"))
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.digest()


def key_for(entries: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(engine_fingerprint())
    for name, content in entries:
        digest.update(name.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()


def read(directory: pathlib.Path, key: str):
    path = directory / f"{key}.pickle"
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)  # noqa: S301 — our own cache, owner-only, keyed by content
    except FileNotFoundError:
        return None
    except Exception:  # damaged or from another Python: rebuild
        return None


def write(directory: pathlib.Path, key: str, value) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".pickle")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, directory / f"{key}.pickle")
    except OSError:
        pass  # a read-only home must not stop the engine
