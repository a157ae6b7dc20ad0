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
