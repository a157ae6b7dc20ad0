"""The wheel carries its policies and schemas: `yidi eval` works outside a checkout."""

from __future__ import annotations

import json
import subprocess
import sys
import venv

import pytest

from .conftest import EXAMPLES, ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("install")
    wheels = work / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    if built.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{built.stdout}\n{built.stderr}")
    env_dir = work / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    wheel = next(wheels.glob("yidi-*.whl"))
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "yidi/py.typed" in names and "yidi/_data/schemas/claim.schema.json" in names
    # The workbench's page and its presets (the examples) travel in the wheel too.
    assert {"yidi/server/assets/index.html", "yidi/server/assets/app.js", "yidi/server/assets/form.js",
            "yidi/server/assets/render.js", "yidi/server/assets/workbench.css",
            "yidi/_data/examples/henan-newborn.claim.json"} <= set(names)
    # --target-free install into the venv through the outer pip, dependencies come from the outer environment
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"installing the wheel failed:\n{done.stdout}\n{done.stderr}")
    return env_dir, work


def test_installed_yidi_uses_the_shipped_policies_anywhere(installed):
    env_dir, work = installed
    outside = work / "elsewhere"
    outside.mkdir()
    result = subprocess.run([str(env_dir / "bin" / "yidi"), "eval", str(EXAMPLES / "henan-newborn.claim.json")],
                            capture_output=True, text=True, cwd=outside, timeout=120)
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["treatment"] == "emergency"
    assert "_data" in next(e for e in decision["trace"] if e["rule"] == "yidi.policy-selection")["explanation"] or decision["policy"]["id"] == "henan"
    check = subprocess.run([str(env_dir / "bin" / "yidi"), "validate"], capture_output=True, text=True, cwd=outside, timeout=120)
    assert check.returncode == 0, check.stderr
    assert "_data" in check.stdout


def test_installed_yidi_serves_the_workbench(installed):
    """`yidi serve` from the wheel, outside any checkout: the page, its files and its presets are all there."""
    import re
    import urllib.request

    env_dir, work = installed
    outside = work / "serving"
    outside.mkdir()
    server = subprocess.Popen([str(env_dir / "bin" / "yidi"), "serve", "--port", "0", "--check", "load",
                               "--audit-log", str(outside / "log.jsonl")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=outside)
    try:
        first = server.stdout.readline()  # type: ignore[union-attr]
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
        assert match, first + server.stderr.read()  # type: ignore[union-attr]
        url = match[1]
        page = urllib.request.urlopen(url + "/", timeout=30).read().decode("utf-8")
        assert "yidi 工作台" in page
        for name in ("app.js", "form.js", "render.js", "workbench.css"):
            assert urllib.request.urlopen(f"{url}/workbench/{name}", timeout=30).status == 200
        data = json.loads(urllib.request.urlopen(url + "/workbench/data.json", timeout=30).read())
        assert {p["id"] for p in data["presets"]} >= {"henan-newborn", "henan-cancel-locked"}
    finally:
        server.terminate()
        server.wait(15)
