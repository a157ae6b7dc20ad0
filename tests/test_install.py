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
