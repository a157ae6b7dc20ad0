"""Folders and files that only this user can have written: the guard of yidi's on-disk caches.

The compiled-policy cache holds Python code the engine runs, and the
expression parser's cache holds the tables that decide what a policy's
expressions mean. Whoever can write either file can make the engine run
their code or decide differently. So a cache folder or file is used only if
it belongs to this user and nobody else may write it: anything else is
refused with a message on stderr (once per folder and reason), and the
engine works without the cache.

Every check is made on an open file descriptor (`fstat`), and files are
opened relative to the checked folder's descriptor, never followed through
a symbolic link, so the folder cannot be swapped between the check and the
read. Writes go to a fresh owner-only temporary file renamed into place.
On systems without POSIX owners and modes (Windows) no cache is used.
"""

from __future__ import annotations

import os
import pathlib
import stat
import sys
import threading
import time

_POSIX = (hasattr(os, "geteuid") and hasattr(os, "O_DIRECTORY") and hasattr(os, "O_NOFOLLOW")
          and {os.open, os.rename, os.unlink} <= os.supports_dir_fd)
_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def unsafe_reason(st: os.stat_result) -> tuple[str, str] | None:
    """Why a folder or file with this status must not be trusted, with what to do (zh, en); or None."""
    if st.st_uid != os.geteuid():
        return (f"它属于另一个用户（uid {st.st_uid}），其中的文件可能被他人替换。请改用只有您能写入的目录（设置 XDG_CACHE_HOME）",
                f"it belongs to another user (uid {st.st_uid}); use a folder only you can write (set XDG_CACHE_HOME)")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        mode = f"{stat.S_IMODE(st.st_mode):04o}"
        return (f"同组或其他用户可以写入它（权限 {mode}），其中的文件可能被他人替换。请执行 chmod go-w，或删除它",
                f"group or others may write it (mode {mode}); run chmod go-w on it, or remove it")
    return None


def _mark_used(file: int | str, folder: int | None = None) -> None:
    """Set a file's time to now (an open descriptor, or a name in the open folder `folder`): it was used."""
    try:
        if folder is None:
            os.utime(file)
        else:
            os.utime(file, dir_fd=folder, follow_symlinks=False)
    except (OSError, NotImplementedError):
        pass    # a read-only folder: the file stays as old as it was


def warn(path: pathlib.Path | str, reason: tuple[str, str], what: tuple[str, str]) -> None:
    """Tell the user, once per process and problem, that a cache is not used and how to fix it."""
    key = (str(path), reason[1])
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    sys.stderr.write(f"yidi: 本次不使用缓存 {path}（{what[0]}）：{reason[0]}。\n"
                     f"yidi: cache {path} ({what[1]}) not used: {reason[1]}.\n")


class PrivateFolder:
    """An open folder that was checked to be this user's own; read and write files in it by name."""

    def __init__(self, path: pathlib.Path, fd: int, what: tuple[str, str]):
        self.path, self._fd, self.what = path, fd, what

    @classmethod
    def open(cls, path: pathlib.Path, what: tuple[str, str], create: bool = True) -> PrivateFolder | None:
        """The folder at `path` (made owner-only if missing), or None if it cannot be had or trusted.

        A folder that cannot be made or opened (read-only home, no such
        folder) is silently no cache; one that can be opened but not trusted
        is refused with a message.
        """
        if not _POSIX:
            return None
        path = pathlib.Path(path)
        try:
            if create:
                path.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        reason = unsafe_reason(os.fstat(fd))
        if reason is not None:
            os.close(fd)
            warn(path, reason, what)
            return None
        return cls(path, fd, what)

    def __enter__(self) -> PrivateFolder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def read(self, name: str) -> bytes | None:
        """The bytes of file `name`, or None if it is missing, not a plain file, or not trusted."""
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(name, flags, dir_fd=self._fd)
        except OSError:  # missing, or a symbolic link (ELOOP): nothing we wrote
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            reason = unsafe_reason(st)
            if reason is not None:
                warn(self.path / name, reason, self.what)
                return None
            with os.fdopen(fd, "rb", closefd=False) as handle:
                data = handle.read()
            _mark_used(fd)
            return data
        except OSError:
            return None
        finally:
            os.close(fd)

    def holds(self, name: str) -> bool:
        """Whether file `name` is there as `read` would accept it (a plain file, trusted), without reading it.
        One that is counts as used (`remove_unused`): whoever asked means to read it."""
        try:
            st = os.stat(name, dir_fd=self._fd, follow_symlinks=False)
        except OSError:
            return False
        if stat.S_ISREG(st.st_mode) and unsafe_reason(st) is None:
            _mark_used(name, self._fd)
            return True
        return False

    def remove_unused(self, suffix: str, unused_for: float, every: float, marker: str = ".removed-unused") -> int:
        """Remove the plain files named `*suffix` (and temporary files a crash left) that nobody has read or
        written for `unused_for` seconds; scan at most once per `every` seconds (file `marker` tells when the
        last scan began). How many were removed. A failure only leaves files in place.

        Why: entries are keyed by content, so every edit, engine version and
        interpreter writes new ones and the old ones would stay for ever. A file
        counts as used when read (`read` and `holds` set its time).
        """
        now = time.time()
        try:
            last = os.stat(marker, dir_fd=self._fd, follow_symlinks=False)
            if stat.S_ISREG(last.st_mode) and now - last.st_mtime < every:
                return 0
        except OSError:
            pass
        try:   # mark the scan first: another process finding the marker fresh does not scan as well
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600, dir_fd=self._fd)
        except OSError:
            return 0
        try:
            os.utime(fd)
        except OSError:
            return 0
        finally:
            os.close(fd)
        removed = 0
        try:
            with os.scandir(self._fd) as entries:
                for entry in entries:
                    if not (entry.name.endswith(suffix) or entry.name.startswith(".tmp-")):
                        continue
                    try:
                        st = entry.stat(follow_symlinks=False)
                        if stat.S_ISREG(st.st_mode) and now - st.st_mtime > unused_for:
                            os.unlink(entry.name, dir_fd=self._fd)
                            removed += 1
                    except OSError:
                        continue
        except OSError:
            pass
        return removed

    def write(self, name: str, data: bytes) -> None:
        """Replace file `name` with `data` atomically, owner-only; a failure only means no cache."""
        temporary = f".tmp-{os.urandom(8).hex()}-{name}"  # (`secrets` costs 9 ms to import)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(temporary, flags, 0o600, dir_fd=self._fd)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.rename(temporary, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)  # POSIX rename replaces atomically
        except OSError:
            try:
                os.unlink(temporary, dir_fd=self._fd)
            except OSError:
                pass
