"""The decision log: one JSON line per decision, appended so that a crash never leaves a torn line.

Why each choice:

* Every record carries the input document itself (and the sha256 of its
  canonical form), the policy revision and the decision, so `yidi replay`
  can decide it again and anyone can check that a stored input is the one
  that was hashed.
* A record is one `os.write` of a complete line to a file opened with
  O_APPEND, under a lock: lines from concurrent requests never interleave,
  and a process killed at any instant leaves either the whole line or none
  of it (the kernel has the bytes once `write` returns). Only a machine
  crash (power loss) can tear the *last* line; `fsync="always"` (the
  default) makes every acknowledged decision durable even then.
* On open, a torn or unreadable last line — which only a previous crash can
  leave — is moved to a quarantine file beside the log and cut off, so the
  log always parses completely and the evidence is kept, not deleted.
* An exclusive `flock` stops two servers from appending to (and recovering)
  the same log at once.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import math
import os
import pathlib
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .documents import load_json
from .errors import InputError
from .jsonout import dumps

FSYNC_POLICIES = ("always", "interval", "never")
_BLOCK = 65536


class AuditError(Exception):
    """The decision log cannot be opened, written or read."""


def canonical(value: Any) -> str:
    """Canonical JSON text: keys sorted, no spaces, numbers as exact shortest digits, UTF-8 kept readable."""
    return dumps(_sorted(value))


_PLAIN_DIGITS = 4300
"""Numbers up to this many digits either side of the point are written out in full (as Python
writes ints by default); beyond, in exponent form. Writing out 1E+1000000 would hold the
interpreter for tens of seconds (Decimal → int is quadratic), and no JSON integer is that long."""


def _sorted(value: Any) -> Any:
    """Keys sorted; numbers in one spelling (32000.00, 32000 and 3.2E+4 are the same amount)."""
    if isinstance(value, dict):
        return {str(k): _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_sorted(v) for v in value]
    if isinstance(value, float) and math.isfinite(value):
        value = Decimal(repr(value))
    if isinstance(value, Decimal) and value.is_finite():
        if value and abs(value.adjusted()) > _PLAIN_DIGITS:
            return _without_trailing_zeros(value)
        return int(value) if value == value.to_integral_value() else Decimal(format(value.normalize(), "f"))
    return value


def _without_trailing_zeros(value: Decimal) -> Decimal:
    """The same number with its trailing zeros moved into the exponent — exactly, in time linear in its digits."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    kept = len(digits)
    while kept > 1 and digits[kept - 1] == 0:
        kept -= 1
    return Decimal((sign, digits[:kept], exponent + len(digits) - kept))


def input_hash(document: Any) -> str:
    """sha256 (hex) of the canonical JSON text of an input document."""
    return hashlib.sha256(canonical(document).encode("utf-8")).hexdigest()


def now() -> str:
    """The log's clock: UTC, ISO 8601 with microseconds."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


def record(*, request_id: str, document: Any, input_format: str, revision: str, trace: str,
           decision: dict[str, Any] | None = None, error: dict[str, Any] | None = None,
           time: str | None = None, client: str | None = None) -> dict[str, Any]:
    """One log record; `time` is when the request was bound to `revision`; `client` names the caller when it said (X-Yidi-Client)."""
    entry: dict[str, Any] = {
        "time": time or now(), "request_id": request_id, "input_sha256": input_hash(document),
        "revision": revision, "input_format": input_format, "trace": trace, "input": document,
    }
    if client is not None:
        entry["client"] = client
    if decision is not None:
        entry["decision"] = decision
    if error is not None:
        entry["error"] = error
    return entry


@dataclass(frozen=True)
class Recovery:
    """What opening the log found: a torn tail of `removed` bytes at `offset`, kept in `quarantine`."""

    offset: int
    removed: int
    quarantine: pathlib.Path | None


class AuditLog:
    """An open decision log. Thread-safe; `append` returns once the line is written (and synced, per policy)."""

    def __init__(self, path: str | pathlib.Path, fsync: str = "always", interval: float = 1.0):
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync must be one of {FSYNC_POLICIES}")
        self.path = pathlib.Path(path)
        self.fsync = fsync
        self._lock = threading.Lock()
        self._dirty = False
        self._closed = threading.Event()
        self.failed: str | None = None
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        except OSError as exc:
            raise AuditError(f"cannot open decision log {self.path}: {exc.strerror}") from exc
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self._fd)
            raise AuditError(f"decision log {self.path} is in use by another process") from exc
        self.recovery = recover(self._fd, self.path)
        self._syncer: threading.Thread | None = None
        if fsync == "interval":
            self._syncer = threading.Thread(target=self._sync_loop, args=(interval,), name="yidi-audit-fsync", daemon=True)
            self._syncer.start()

    def append(self, entry: dict[str, Any]) -> None:
        """Write one record as one line; raise AuditError (and mark the log failed) if the disk refuses."""
        line = (dumps(entry) + "\n").encode("utf-8")
        try:
            with self._lock:
                if self._closed.is_set():
                    raise AuditError("decision log is closed")
                view = memoryview(line)
                while view:  # one write in practice; a short write is finished before anyone else writes
                    written = os.write(self._fd, view)
                    view = view[written:]
                self._dirty = True
            if self.fsync == "always":
                os.fsync(self._fd)
        except OSError as exc:
            self.failed = f"{exc.strerror or exc}"
            raise AuditError(f"cannot write decision log {self.path}: {self.failed}") from exc

    def _sync_loop(self, interval: float) -> None:
        while not self._closed.wait(interval):
            self.sync()

    def sync(self) -> None:
        with self._lock:
            dirty, self._dirty = self._dirty, False
        if dirty and not self._closed.is_set():
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self.failed = f"{exc.strerror or exc}"

    def close(self) -> None:
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)


def _last_newline(fd: int, end: int) -> int:
    """Offset of the last b"\\n" before `end`, or -1."""
    position = end
    while position > 0:
        start = max(0, position - _BLOCK)
        chunk = os.pread(fd, position - start, start)
        found = chunk.rfind(b"\n")
        if found >= 0:
            return start + found
        position = start
    return -1


def recover(fd: int, path: pathlib.Path) -> Recovery:
    """Cut off a torn or unreadable last line left by a crash, keeping its bytes in a quarantine file.

    Appends are sequential, so only the last line can be damaged: either it
    lacks its newline (the write was cut short) or its bytes are garbage (a
    file system that extended the file but lost the data, e.g. NULs).
    """
    size = os.fstat(fd).st_size
    if size == 0:
        return Recovery(0, 0, None)
    ends_complete = os.pread(fd, 1, size - 1) == b"\n"
    cut = _last_newline(fd, size - 1 if ends_complete else size) + 1
    if ends_complete and _parses(os.pread(fd, size - cut, cut)):
        return Recovery(size, 0, None)
    torn = os.pread(fd, size - cut, cut)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    quarantine = path.with_name(f"{path.name}.torn-{stamp}-{cut}")
    mode = stat.S_IMODE(os.fstat(fd).st_mode)  # the torn line holds a claim: no more readable than the log
    out_fd = os.open(quarantine, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    with open(out_fd, "wb") as out:
        os.fchmod(out_fd, mode)  # exactly the log's mode, whatever the umask
        out.write(torn)
        out.flush()
        os.fsync(out.fileno())
    os.ftruncate(fd, cut)
    os.fsync(fd)
    _sync_directory(path.parent)
    return Recovery(cut, len(torn), quarantine)


def _parses(line: bytes) -> bool:
    try:
        return isinstance(load_json(line.decode("utf-8")), dict)
    except (InputError, UnicodeDecodeError):
        return False


def _sync_directory(folder: pathlib.Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def read_log(path: str | pathlib.Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each record with its line number; AuditError naming the line if one does not parse."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                raise AuditError(f"{path}:{number}: torn last line (no newline); open the log once to quarantine it")
            try:
                entry = load_json(raw.decode("utf-8"))
            except (InputError, UnicodeDecodeError) as exc:
                raise AuditError(f"{path}:{number}: not a JSON record: {exc}") from exc
            if not isinstance(entry, dict):
                raise AuditError(f"{path}:{number}: not a JSON object")
            yield number, entry
