"""The on-disk caches (issue 11, items 11 and 12).

The compiled-policy cache is keyed by the interpreter too, any entry that is
not intact is built again (never a crash), and neither it nor the expression
parser's cache is read from a folder or file that someone else can write.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import pickle
import subprocess
import sys

import pytest

from yidi import Engine
from yidi.policy import cache
from yidi.policy.tree import TreeIndex

from .conftest import POLICIES, ROOT

CLAIM = json.loads((ROOT / "examples" / "henan-newborn.claim.json").read_text(encoding="utf-8"))
NATIONAL = [("policies/national/policy.yaml", (POLICIES / "national" / "policy.yaml").read_bytes())]


def only_entry(folder: pathlib.Path) -> pathlib.Path:
    """The entry of the whole tree (the parts a build keeps, file by file and policy by policy, are named f-…, c-…)."""
    (entry,) = (p for p in folder.glob("*.pickle") if "-" not in p.stem)
    return entry


class Planted:
    """Unpickling this opens (creates) a marker file: the proof that a cache file was loaded."""

    def __init__(self, marker: pathlib.Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def plant(folder: pathlib.Path, marker: pathlib.Path) -> pathlib.Path:
    """An entry for the shipped tree, written by the cache itself, whose loading would create `marker`."""
    contents = [(f"policies/{p.relative_to(POLICIES).as_posix()}", p.read_bytes())
                for p in sorted(POLICIES.rglob("policy.yaml")) if "tests" not in p.relative_to(POLICIES).parts]
    folder.mkdir(mode=0o700, exist_ok=True)
    cache.write(folder, cache.key_for(contents), Planted(marker))
    return only_entry(folder)


# --------------------------------------------------------------------------
# Item 11: the interpreter is part of the key; a damaged entry is a miss.


@pytest.mark.parametrize("change", ["implementation", "version", "bytecode"])
def test_the_key_depends_on_the_interpreter(monkeypatch, change):
    """Code marshalled by one Python must never be read by another (3.11's by 3.12 crashes it)."""
    here = cache.key_for(NATIONAL)
    if change == "implementation":
        monkeypatch.setattr(sys.implementation, "cache_tag", "pypy311")
    elif change == "version":
        monkeypatch.setattr(sys, "version_info", (3, sys.version_info[1] + 1, 0, "final", 0))
    else:
        monkeypatch.setattr(importlib.util, "MAGIC_NUMBER", b"\x00\x00\r\n")
    assert cache.key_for(NATIONAL) != here


def test_an_entry_of_another_interpreter_is_never_unpickled(tmp_path, monkeypatch):
    marker = tmp_path / "loaded"
    folder = tmp_path / "cache"
    entry = plant(folder, marker)
    monkeypatch.setattr(cache, "interpreter_tag", lambda: b"cpython cpython-399 3.99.0.final.0")
    engine = Engine.load(POLICIES, cache=folder)  # same file name (key computed above), foreign header
    assert not marker.exists()
    assert engine.evaluate(CLAIM)["treatment"] == "emergency"
    assert entry.exists()


_RUN_CACHED = """
import json, sys
from yidi import Engine
decision = Engine.load(sys.argv[1], cache=sys.argv[2]).evaluate(json.loads(sys.argv[3]), trace="ids")
print(json.dumps(decision["amounts"], sort_keys=True, default=str))
"""


def _run_cached(folder: pathlib.Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "engine")}
    return subprocess.run([sys.executable, "-c", _RUN_CACHED, str(POLICIES), str(folder), json.dumps(CLAIM)],
                          capture_output=True, text=True, env=env, timeout=120)


def test_damaged_code_in_an_entry_is_a_miss_not_a_crash(tmp_path, engine):
    """Bit rot inside the marshalled bytecode: the entry still unpickles, but its code must never run."""
    folder = tmp_path / "cache"
    expected = json.dumps(engine.evaluate(CLAIM, trace="ids")["amounts"], sort_keys=True, default=str)
    first = _run_cached(folder)
    assert first.returncode == 0 and first.stdout.strip() == expected, first.stderr
    evaluate = next(c for c in engine.policies.policies["henan"].programs["claim"].code.co_consts if hasattr(c, "co_code"))
    entry = next(p for p in folder.glob("*.pickle") if evaluate.co_code in p.read_bytes())  # henan's compiled part
    data = entry.read_bytes()
    assert data.count(evaluate.co_code) >= 1      # once per parameter epoch with the same code: damage them all
    entry.write_bytes(data.replace(evaluate.co_code, bytes(len(evaluate.co_code))))  # opcode 0 (CACHE) throughout
    again = _run_cached(folder)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.strip() == expected


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "pickle-of-something-else"])
def test_an_unreadable_entry_is_built_again(tmp_path, engine, damage):
    folder = tmp_path / "cache"
    Engine.load(POLICIES, cache=folder)
    entry = only_entry(folder)
    data = entry.read_bytes()
    entry.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "garbage": os.urandom(4096),
                       "pickle-of-something-else": pickle.dumps({"not": "a policy set"})}[damage])
    assert Engine.load(POLICIES, cache=folder).evaluate(CLAIM) == engine.evaluate(CLAIM)
    assert isinstance(cache.read(folder, entry.stem), TreeIndex)  # replaced by a good entry


# --------------------------------------------------------------------------
# Item 12: only the user's own, private files are read.


def test_a_cache_folder_others_can_write_is_refused(tmp_path, capsys):
    marker = tmp_path / "loaded"
    folder = tmp_path / "shared"
    plant(folder, marker)
    folder.chmod(0o777)  # an existing folder: mkdir(mode=0o700, exist_ok=True) would not tighten it
    engine = Engine.load(POLICIES, cache=folder)
    assert not marker.exists(), "a file in a folder anyone can write was unpickled"
    assert engine.evaluate(CLAIM)["treatment"] == "emergency"
    err = capsys.readouterr().err
    assert str(folder) in err and "0777" in err and "chmod go-w" in err


def test_a_cache_file_others_can_write_is_refused(tmp_path, capsys):
    marker = tmp_path / "loaded"
    folder = tmp_path / "cache"
    entry = plant(folder, marker)
    entry.chmod(0o666)
    Engine.load(POLICIES, cache=folder)
    assert not marker.exists()
    assert str(entry) in capsys.readouterr().err


def test_a_cache_folder_of_another_user_is_refused(tmp_path, monkeypatch, capsys):
    marker = tmp_path / "loaded"
    folder = tmp_path / "cache"
    plant(folder, marker)
    someone_else = os.geteuid() + 1
    monkeypatch.setattr(os, "geteuid", lambda: someone_else)
    Engine.load(POLICIES, cache=folder)
    assert not marker.exists()
    assert "uid" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_cache_file_of_another_user_is_refused(tmp_path, capsys):
    marker = tmp_path / "loaded"
    folder = tmp_path / "cache"
    entry = plant(folder, marker)
    os.chown(entry, 65534, 65534)
    Engine.load(POLICIES, cache=folder)
    assert not marker.exists()
    assert "uid 65534" in capsys.readouterr().err


def test_a_symbolic_link_in_the_cache_is_not_followed(tmp_path):
    marker = tmp_path / "loaded"
    elsewhere = tmp_path / "elsewhere"
    target = plant(elsewhere, marker)
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    (folder / target.name).symlink_to(target)
    Engine.load(POLICIES, cache=folder)
    assert not marker.exists()


def test_new_cache_folders_and_entries_are_private(tmp_path):
    folder = tmp_path / "new" / "cache"
    Engine.load(POLICIES, cache=folder)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert only_entry(folder).stat().st_mode & 0o777 == 0o600


def test_the_parser_cache_is_not_kept_in_a_folder_others_can_write(tmp_path, monkeypatch, capsys):
    from yidi.dsl import lark_parser

    shared = tmp_path / "xdg" / "yidi"
    shared.mkdir(parents=True)
    shared.chmod(0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    lark_parser._lark.cache_clear()
    try:
        assert lark_parser._lark().parse("a + 1")
    finally:
        lark_parser._lark.cache_clear()
    assert not list(shared.iterdir()), "nothing is read from or written to a folder anyone can write"
    assert str(shared) in capsys.readouterr().err


def test_damaged_parts_of_a_build_are_built_again(tmp_path, engine):
    """The parts kept file by file (f-…) and policy by policy (c-…) are checked like whole entries."""
    folder = tmp_path / "cache"
    Engine.load(POLICIES, cache=folder)
    only_entry(folder).unlink()          # the next load builds from the parts
    parts = sorted(folder.glob("[cf]-*.pickle"))
    assert len(parts) == 2 * len(engine.policies.policies)
    for part in parts:
        data = bytearray(part.read_bytes())
        data[-7] ^= 0xFF
        part.write_bytes(bytes(data))
    assert Engine.load(POLICIES, cache=folder).evaluate(CLAIM) == engine.evaluate(CLAIM)


def test_a_part_lost_after_loading_is_built_again_from_unchanged_files(tmp_path, engine):
    """A tree read from the cache reads each policy on first use; a part gone by then is built from its files."""
    folder = tmp_path / "cache"
    Engine.load(POLICIES, cache=folder)
    lazy = Engine.load(POLICIES, cache=folder)
    for part in folder.glob("c-*.pickle"):
        part.unlink()
    assert lazy.evaluate(CLAIM) == engine.evaluate(CLAIM)


# ── removing what nobody uses ─────────────────────────────────────────────

DAY = 24 * 3600


def _age(path: pathlib.Path, days: float) -> None:
    then = path.stat().st_mtime - days * DAY
    os.utime(path, (then, then))


def test_entries_unused_for_a_month_are_removed_by_the_next_write(tmp_path):
    cache.write(tmp_path, "old", "old value")
    cache.write(tmp_path, "read-lately", "kept: it was read")
    cache.write(tmp_path, "recent", "recent value")
    (tmp_path / "notes.txt").write_text("not an entry", encoding="utf-8")
    left = tmp_path / ".tmp-0123456789abcdef-x.pickle"
    left.write_bytes(b"a write a crash cut short")
    for name in ("old.pickle", "read-lately.pickle", ".tmp-0123456789abcdef-x.pickle", "notes.txt"):
        _age(tmp_path / name, cache.UNUSED_DAYS + 1)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.pickle"   # a link is neither followed nor removed
    outside.write_bytes(b"not ours")
    (tmp_path / "link.pickle").symlink_to(outside)
    os.utime(tmp_path / "link.pickle", (0, 0), follow_symlinks=False)
    os.utime(outside, (0, 0))
    _age(tmp_path / "recent.pickle", cache.UNUSED_DAYS - 1)
    assert cache.read(tmp_path, "read-lately") == "kept: it was read"      # a read counts as a use
    _age(tmp_path / ".removed-unused", 2)                                   # the last scan was two days ago
    cache.write(tmp_path, "new", "new value")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".removed-unused", "link.pickle", "new.pickle", "notes.txt",
                                                          "read-lately.pickle", "recent.pickle"]
    assert outside.read_bytes() == b"not ours"
    assert cache.read(tmp_path, "recent") == "recent value"


def test_the_folder_is_scanned_at_most_once_a_day(tmp_path):
    cache.write(tmp_path, "first", 1)            # scans (nothing to remove) and marks the scan
    cache.write(tmp_path, "old", 2)
    _age(tmp_path / "old.pickle", cache.UNUSED_DAYS + 1)
    cache.write(tmp_path, "another", 3)          # the last scan was moments ago: no scan
    assert cache.read(tmp_path, "old") == 2


def test_a_part_a_build_finds_there_counts_as_used(tmp_path, engine):
    Engine.load(POLICIES, cache=tmp_path)
    parts = sorted(tmp_path.glob("c-*.pickle"))
    (index,) = [p for p in tmp_path.glob("*.pickle") if p.name[:2] not in ("c-", "f-")]
    for part in parts:
        _age(part, cache.UNUSED_DAYS + 1)
    index.unlink()                               # the next load builds: it finds the compiled parts, not reads them
    Engine.load(POLICIES, cache=tmp_path)
    _age(tmp_path / ".removed-unused", 2)
    cache.write(tmp_path, "trigger", 0)
    assert parts and all(part.exists() for part in parts)
