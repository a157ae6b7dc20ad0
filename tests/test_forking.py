"""`fork_map` forks workers only when that is safe: never while another thread runs.

Each case runs in a fresh interpreter, so that no thread left by another test
decides what happens.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys

import pytest

from .conftest import ROOT

SCRIPT = """
import json, os, sys, threading
from yidi.forking import fork_map

def where(state, item):
    return os.getpid()

stop = threading.Event()
if sys.argv[1] == "with-thread":
    threading.Thread(target=stop.wait, daemon=True).start()
found = fork_map(where, None, list(range(16)), jobs=2, at_least=2)
stop.set()
print(json.dumps({"parent": os.getpid(), "workers": sorted(set(found)), "count": len(found)}))
"""


def _run(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT / "engine"), "PATH": ""}, check=True)
    return json.loads(done.stdout)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")
def test_workers_are_forked_when_no_other_thread_runs():
    found = _run("alone")
    assert found["count"] == 16
    assert found["parent"] not in found["workers"]


def test_items_are_mapped_here_while_another_thread_runs():
    found = _run("with-thread")
    assert found == {"parent": found["parent"], "workers": [found["parent"]], "count": 16}
