"""Running the real `yidi serve` in a subprocess for end-to-end tests (no tests here).

The server is started exactly as an operator would start it — `yidi serve
--port 0` on 127.0.0.1 — and the port is read from the first line it prints.
Everything talks to it over real HTTP with httpx.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from .conftest import POLICIES, ROOT

httpx = pytest.importorskip("httpx")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

TOKEN = "test-admin-token-0123456789abcdef"
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


def copy_policies(target: pathlib.Path) -> pathlib.Path:
    """A private copy of the national and Henan policies with their tests (a reload checks them).

    Only these two: the server tests should not depend on regions still being written.
    """
    for region in ("national", "henan"):
        shutil.copytree(POLICIES / region, target / region)
    return target


class Server:
    """One `yidi serve` process; `url` once started. Stop it with `stop()` or `kill()`."""

    def __init__(self, workdir: pathlib.Path, policies: pathlib.Path, *, token: str | None = None,
                 audit: pathlib.Path | None = None, args: tuple[str, ...] = ()):
        self.workdir = workdir
        self.policies = policies
        self.token = token
        self.audit = audit or workdir / "decisions.jsonl"
        self.args = args
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.stderr_path = workdir / f"server-{time.monotonic_ns()}.err"

    def start(self, timeout: float = 30.0) -> Server:
        env = dict(os.environ)
        env.pop("YIDI_ADMIN_TOKEN", None)
        if self.token:
            env["YIDI_ADMIN_TOKEN"] = self.token
        env["PYTHONPATH"] = str(ROOT / "engine") + os.pathsep + env.get("PYTHONPATH", "")
        command = [sys.executable, "-m", "yidi", "serve", "--port", "0", "--policies", str(self.policies),
                   "--audit-log", str(self.audit), *self.args]
        self._stderr = open(self.stderr_path, "w")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr, text=True, cwd=self.workdir, env=env)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        match = _LISTENING.search(line[0]) if line else None
        if not match:
            self.kill()
            raise AssertionError(f"yidi serve did not start: {line!r}\n{self.stderr_path.read_text()}")
        self.url = match[1]
        return self

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30.0, **kwargs)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def stop(self) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._stderr.close()
        return self.process.returncode

    def kill(self) -> None:
        """kill -9: no chance to clean up."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        if hasattr(self, "_stderr"):
            self._stderr.close()
