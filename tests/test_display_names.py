"""`DisplayNames` names files as resolving each path whole did, with symbolic links anywhere on the way."""

from __future__ import annotations

import os
import pathlib

import pytest

from yidi.policy.tree import DisplayNames


def _resolving_whole(path: pathlib.Path, root: pathlib.Path) -> str:
    """The name files had before: every path resolved on its own."""
    try:
        return str(path.resolve().relative_to(root.resolve().parent))
    except ValueError:
        return str(path)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_names_are_those_of_resolving_every_path(tmp_path):
    real = tmp_path / "real" / "policies"
    (real / "henan" / "tests").mkdir(parents=True)
    (real / "henan" / "policy.yaml").write_text("x", encoding="utf-8")
    (real / "henan" / "tests" / "a.yaml").write_text("x", encoding="utf-8")
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("x", encoding="utf-8")
    (real / "henan" / "tests" / "linked-out.yaml").symlink_to(outside)
    (real / "henan" / "tests" / "linked-in.yaml").symlink_to(real / "henan" / "policy.yaml")
    (real / "hubei").symlink_to(real / "henan", target_is_directory=True)
    (tmp_path / "link").symlink_to(real.parent, target_is_directory=True)
    for root in (real, tmp_path / "link" / "policies"):
        names = DisplayNames(root)
        paths = sorted(root.rglob("*.yaml")) + [root / "hubei" / "tests" / "a.yaml", root / "henan" / "missing.yaml"]
        for path in paths:
            assert names(path) == _resolving_whole(path, root), path
            assert names(path) == names(path)       # the folders it keeps give the same name again


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_relative_roots_dot_dot_and_relative_links_name_the_same(tmp_path, monkeypatch):
    """Each folder is its resolved parent and its name, unless it is a link or `..`: relative paths, `..` on the
    way and links with relative targets deep in the tree must still name files as resolving them whole."""
    real = tmp_path / "work" / "policies"
    (real / "p41" / "c4101" / "tests").mkdir(parents=True)
    (real / "p41" / "c4101" / "policy.yaml").write_text("x", encoding="utf-8")
    (real / "p41" / "c4101" / "tests" / "a.yaml").write_text("x", encoding="utf-8")
    (real / "p41" / "c4102").symlink_to(pathlib.Path("c4101"), target_is_directory=True)        # relative target
    (real / "p41" / "c4101" / "shared").symlink_to(pathlib.Path("..") / ".." / "p41", target_is_directory=True)
    monkeypatch.chdir(tmp_path / "work")
    for root in (pathlib.Path("policies"), pathlib.Path("policies/../policies"), pathlib.Path("./policies/p41/..")):
        names = DisplayNames(root)
        paths = [root / "p41" / "c4101" / "policy.yaml", root / "p41" / "c4102" / "tests" / "a.yaml",
                 root / "p41" / "c4101" / "shared" / "c4101" / "tests" / "a.yaml",
                 root / "p41" / ".." / "p41" / "c4101" / "policy.yaml", root / "p41" / "c4102" / ".." / "c4101" / "policy.yaml"]
        for path in paths:
            assert names(path) == _resolving_whole(path, root), path
