"""The libyaml fast path and the Python composer give the same values and positions."""

from __future__ import annotations

import pytest

from yidi import source

from .conftest import POLICIES

FILES = sorted(POLICIES.rglob("*.yaml"))


def snapshot(doc):
    positions = {}
    for path, info in doc.nodes.items():
        probe = [info.offset_position(i) for i in (0, 3, 11)] if isinstance(doc_value(doc.data, path), str) else []
        positions[path] = (info.key, info.value, info.style, probe)
    return doc.data, positions


def doc_value(data, path):
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(POLICIES)))
def test_fast_and_python_composers_agree(path, monkeypatch):
    text = path.read_text(encoding="utf-8")
    fast = snapshot(source.load_yaml(text, "f.yaml"))
    monkeypatch.setattr(source, "_CLoader", None)
    slow = snapshot(source.load_yaml(text, "f.yaml"))
    assert fast == slow


def test_the_speed_ups_off_switch_gives_the_same_validation(tmp_path):
    """YIDI_NO_SPEEDUPS=1 (yidi.speedups) runs only the reference paths: the same verdict and the same messages."""
    import os
    import shutil
    import subprocess
    import sys

    from .conftest import ROOT

    tree = shutil.copytree(POLICIES, tmp_path / "policies")
    (tree / "henan" / "policy.yaml").write_text((tree / "henan" / "policy.yaml").read_text(encoding="utf-8")
                                               .replace("sets: route", "sets: rout", 1), encoding="utf-8")
    outputs = []
    for switch in ("", "1"):
        env = {**os.environ, "PYTHONPATH": str(ROOT / "engine"), "YIDI_NO_SPEEDUPS": switch}
        done = subprocess.run([sys.executable, "-m", "yidi", "validate", "--no-cache", "--no-static", "--policies", str(tree)],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        outputs.append((done.returncode, done.stdout, done.stderr))
    assert outputs[0] == outputs[1] and outputs[0][0] == 1 and "rout" in outputs[0][2]
