"""On-disk cache of compiled policy sets, keyed by content.

Loading a tree means reading YAML, checking schemas, type-checking and
compiling every expression: a few hundred milliseconds that a CLI call or a
worker process should not pay again for unchanged files. The cache key is a
hash of every policy file (with its path), of the engine's own code and
schemas, and of the interpreter (implementation, version, bytecode and
marshal formats), so any change to any of them builds afresh. Only a valid,
fully compiled set is ever stored.

An entry is a header (format, interpreter, SHA-256 of the rest) and a
pickle. Anything unexpected — missing, truncated, damaged, written by another
interpreter, unreadable — is a miss and the set is built again; it never
reaches `pickle`, let alone the marshalled code inside it.

Entries are keyed by content, so every edit, engine version and interpreter
adds new ones: an entry nobody has read or written for `UNUSED_DAYS` days is
removed, in a scan made at most once a day when something is written.

An entry may hold a second value read only when asked for
(`write_with_rest` / `read_with_rest`): a compiled policy's rules and
parameters are read with the entry, its generated code (nine tenths of the
bytes) only when the policy first decides something — validating a national
tree reads every policy's rules but runs none of its code.

The pickle holds the generated code the engine runs (and pickle itself can
run code when loaded), so whoever can write the cache can run code as the
user: entries are read and written only in a folder and as files that
belong to the user and that nobody else may write (`yidi.private_folder`).
docs/security.md states this threat model and why the format stays pickle.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import marshal
import pathlib
import pickle
import struct
import sys
import threading
from collections.abc import Hashable, Mapping
from typing import Any

from ..private_folder import PrivateFolder
from ..resources import user_cache_dir

_PACKAGE = pathlib.Path(__file__).resolve().parent.parent
_FORMAT = b"yidi compiled policies 3\n"
WHAT = ("编译缓存", "compiled-policy cache")


UNUSED_DAYS = 30
"""An entry nobody has read or written for this many days is removed (at most one scan a day, on a write)."""
_DAY = 24 * 3600


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


def interpreter_tag() -> bytes:
    """The interpreter an entry's code objects belong to.

    Marshalled code is only valid for the interpreter that wrote it (3.11
    code read by 3.12 can crash the process), so the implementation, exact
    version, bytecode magic number and marshal format are all part of it.
    """
    impl = sys.implementation
    version = ".".join(str(part) for part in sys.version_info)
    return (f"{impl.name} {impl.cache_tag} {version} bytecode {importlib.util.MAGIC_NUMBER.hex()} "
            f"marshal {marshal.version} pickle {pickle.HIGHEST_PROTOCOL} {sys.byteorder}").encode()


def key_for(entries: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(engine_fingerprint() + b"\0" + interpreter_tag() + b"\0")
    for name, content in entries:
        digest.update(name.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()


def _entry_name(key: str) -> str:
    return f"{key}.pickle"


def _header() -> bytes:
    return _FORMAT + interpreter_tag() + b"\n"


class _Pickler(pickle.Pickler):
    """Writes the objects of `shared` as references (their token) instead of their content."""

    def __init__(self, file, shared: dict[int, Hashable]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.shared = shared

    def persistent_id(self, obj):
        return self.shared.get(id(obj))


def _unpickler(file, shared: Mapping[Hashable, Any]) -> pickle.Unpickler:
    """An unpickler resolving references written by `_Pickler` from the objects the reader already has.

    The lookup is the mapping's own `__getitem__` (a C call: an entry has ~200
    references, a tree ~400 entries); a token the reader lacks raises
    KeyError, so the entry is a miss.
    """
    unpickler = pickle.Unpickler(file)
    unpickler.persistent_load = (shared if type(shared) is dict else dict(shared)).__getitem__
    return unpickler


def read(directory: pathlib.Path, key: str, shared: Mapping[Hashable, Any] | None = None):
    """The cached value for `key`, or None (missing, refused, or not an intact entry of this interpreter).

    `shared`: token → object for an entry written with `write(…, shared=…)`: the
    objects it refers to instead of holding them (a city's entry does not hold
    its province and the national policy again).
    """
    body = _body(directory, key)
    if body is None:
        return None
    try:
        if shared is None:
            return pickle.loads(body)  # noqa: S301 — the user's own file, checked by `_body` (see module docstring)
        return _unpickler(io.BytesIO(body), shared).load()  # noqa: S301 — as above
    except Exception:  # written by an engine this one cannot read, or refers to what the reader lacks: build again
        return None


def _body(directory: pathlib.Path, key: str) -> bytes | None:
    """An entry's pickled part, if the entry is there, intact and of this interpreter."""
    folder = PrivateFolder.open(directory, WHAT, create=False)
    if folder is None:
        return None
    with folder:
        data = folder.read(_entry_name(key))
    if data is None:
        return None
    header = _header()
    body = data[len(header) + 32:]
    if not data.startswith(header) or hashlib.sha256(body).digest() != data[len(header):len(header) + 32]:
        return None  # truncated, damaged, or another format or interpreter: build again
    return body


_FIRST_LENGTH = struct.Struct("<Q")   # a two-part entry's body: the first part's length, the first part, the rest


class Rest:
    """The second value of an entry written by `write_with_rest`, unpickled when first asked for (thread-safe).

    It may refer to any object of the first value, as one pickle would: those
    references are resolved to the very objects the first value was read as.
    """

    def __init__(self, body: memoryview, objects: dict):
        self._body, self._objects = body, objects
        self._value: Any = None
        self._failed = False
        self._lock = threading.Lock()

    def load(self):
        """The value; LookupError if it cannot be read (then the caller builds it again)."""
        with self._lock:
            if self._body is not None:
                try:
                    self._value = _unpickler(io.BytesIO(self._body), self._objects).load()  # noqa: S301 — checked with the entry
                except Exception:  # as in `read`: a miss
                    self._failed = True
                self._body = self._objects = None   # what it needed is not kept once it is read
            if self._failed:
                raise LookupError("the rest of a cache entry could not be read")
            return self._value


def read_with_rest(directory: pathlib.Path, key: str, shared: Mapping[Hashable, Any]) -> tuple[Any, Rest] | None:
    """An entry written by `write_with_rest`: its first value, and the rest to read when needed; None as `read`."""
    body = _body(directory, key)
    if body is None or len(body) < _FIRST_LENGTH.size:
        return None
    (length,) = _FIRST_LENGTH.unpack_from(body)
    view = memoryview(body)
    first = view[_FIRST_LENGTH.size:_FIRST_LENGTH.size + length]
    refs = shared if type(shared) is dict else dict(shared)
    try:
        unpickler = _unpickler(io.BytesIO(first), refs)
        value = unpickler.load()  # noqa: S301 — as in `read`
    except Exception:
        return None
    objects = dict(refs)
    objects.update(unpickler.memo.copy())   # memo index → object: how the rest refers to the first value's objects
    return value, Rest(view[_FIRST_LENGTH.size + length:], objects)


def holds(directory: pathlib.Path, key: str) -> bool:
    """Whether an entry for `key` is there, without reading it: a reader must still expect `read` to miss
    (the entry may be damaged or of another interpreter, or be removed meanwhile)."""
    folder = PrivateFolder.open(directory, WHAT, create=False)
    if folder is None:
        return False
    with folder:
        return folder.holds(_entry_name(key))


def write(directory: pathlib.Path, key: str, value, shared: Mapping[Any, Hashable] | None = None) -> None:
    """Keep `value` under `key`; `shared`: tokens, by `id()`, of objects to write as references (see `read`)."""
    folder = PrivateFolder.open(directory, WHAT, create=True)
    if folder is None:
        return  # no cache folder we may use: a read-only home or a refused folder must not stop the engine
    if shared is None:
        body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        buffer = io.BytesIO()
        _Pickler(buffer, dict(shared)).dump(value)
        body = buffer.getvalue()
    _store(folder, key, body)


def _store(folder: PrivateFolder, key: str, body: bytes) -> None:
    """Write an entry's header, digest and pickled `body` (the part `_body` checks and returns), and now and
    then remove the entries nobody uses."""
    with folder:
        folder.write(_entry_name(key), _header() + hashlib.sha256(body).digest() + body)
        folder.remove_unused(".pickle", UNUSED_DAYS * _DAY, _DAY)


def write_with_rest(directory: pathlib.Path, key: str, first, rest, shared: Mapping[Any, Hashable]) -> None:
    """Keep `first` and `rest` in one entry under `key`, `rest` to be unpickled only when asked for
    (`read_with_rest`); `shared` as in `write`.

    The rest refers to objects of the first value by their index in its pickle's
    memo, which is the index its unpickler gives them: one object stays one
    object, as it would in a single pickle.
    """
    folder = PrivateFolder.open(directory, WHAT, create=True)
    if folder is None:
        return  # as in `write`
    refs = dict(shared)
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, refs)
    pickler.dump(first)
    head = buffer.getvalue()
    memo = pickler.memo.copy()    # id → (index, object): holding the objects keeps their ids unique meanwhile
    buffer = io.BytesIO()
    _Pickler(buffer, refs | {id_: index for id_, (index, _) in memo.items()}).dump(rest)
    _store(folder, key, _FIRST_LENGTH.pack(len(head)) + head + buffer.getvalue())
