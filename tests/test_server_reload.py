"""Atomic reload: an invalid tree is refused and the old one keeps serving; a valid one swaps in whole."""

from __future__ import annotations

import json
import signal
import threading
import time

import pytest

from .conftest import EXAMPLES
from .server_support import TOKEN, Server, copy_policies

REFERRAL = json.loads((EXAMPLES / "henan-referral.claim.json").read_text(encoding="utf-8"))
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path, copy_policies(tmp_path / "policies"), token=TOKEN).start()
    yield running
    running.stop()


def _revision(client) -> str:
    response = client.post("/v1/evaluate", json=REFERRAL, params={"trace": "ids"})
    assert response.status_code == 200, response.text
    return response.json()["policy"]["revision"]


def test_invalid_tree_is_refused_and_the_old_revision_keeps_serving(server):
    henan = server.policies / "henan" / "policy.yaml"
    original = henan.read_text(encoding="utf-8")
    with server.client() as client:
        before = _revision(client)
        henan.write_text(original.replace("type: number", "type: numbr", 1), encoding="utf-8")
        refused = client.post("/v1/admin/reload", headers=AUTH)
        assert refused.status_code == 409
        body = refused.json()
        assert body["error"] == "invalid-policies" and body["serving"] == before and body["valid"] is False
        assert any(d["file"].endswith("henan/policy.yaml") and d["line"] for d in body["diagnostics"])
        assert _revision(client) == before

        # A tree that loads but fails its own YAML test cases is refused too.
        henan.write_text(original.replace("value: 10\n        source: {document: 豫医保办〔2025〕2号, clause: 二（二）, says: 原则上，异地转诊",
                                          "value: 5\n        source: {document: 豫医保办〔2025〕2号, clause: 二（二）, says: 原则上，异地转诊", 1),
                         encoding="utf-8")
        failing = client.post("/v1/admin/reload", headers=AUTH)
        assert failing.status_code == 409 and any("tests" in (d["file"] or "") for d in failing.json()["diagnostics"])
        assert _revision(client) == before

        # /v1/validate reports the same without swapping anything.
        check = client.post("/v1/validate").json()
        assert check["valid"] is False and check["serving"] == before

        henan.write_text(original + "\n# reviewed again\n", encoding="utf-8")
        accepted = client.post("/v1/admin/reload", headers=AUTH)
        assert accepted.status_code == 200, accepted.text
        after = accepted.json()
        assert after["changed"] is True and after["previous"] == before and after["revision"] != before
        assert _revision(client) == after["revision"]
        metrics = client.get("/metrics").text
        assert 'yidi_policy_reloads_total{outcome="refused"} 2' in metrics
        assert f'yidi_policy_info{{revision="{after["revision"]}"}} 1' in metrics


def test_sighup_reloads(server):
    with server.client() as client:
        before = _revision(client)
        national = server.policies / "national" / "policy.yaml"
        national.write_text(national.read_text(encoding="utf-8") + "\n# touched for SIGHUP\n", encoding="utf-8")
        server.signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and client.get("/readyz").json()["revision"] == before:
            time.sleep(0.1)
        assert client.get("/readyz").json()["revision"] != before
        assert _revision(client) != before


def test_no_request_sees_a_mixture_during_reloads(server):
    """Batches run while the tree is swapped back and forth: each batch is decided by one revision."""
    national = server.policies / "national" / "policy.yaml"
    original = national.read_text(encoding="utf-8")
    seen: list[set[str]] = []
    errors: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        with server.client() as client:
            while not stop.is_set():
                response = client.post("/v1/evaluate/batch", json=[REFERRAL] * 20)
                if response.status_code != 200:
                    errors.append(response.text)
                    continue
                seen.append({item["policy"]["revision"] for item in response.json()})

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    revisions = set()
    try:
        with server.client() as admin:
            revisions.add(admin.get("/readyz").json()["revision"])
            for generation in range(3):
                national.write_text(original + f"\n# generation {generation}\n", encoding="utf-8")
                reloaded = admin.post("/v1/admin/reload", headers=AUTH)
                assert reloaded.status_code == 200, reloaded.text
                revisions.add(reloaded.json()["revision"])
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors
    assert seen and all(len(batch) == 1 for batch in seen)
    assert set().union(*seen) <= revisions and len(revisions) == 4


def _henan_rule(extra: str) -> str:
    return ("  - id: henan.hostile\n    title: 对抗性规则\n    sets: amounts.fund\n" + extra +
            "    source: {document: 豫医保办〔2025〕2号, clause: 二（二）}\n")


HOSTILE_EDITS = {  # issue 11, items 9 and 10: each used to end in a 500 and a traceback in the log
    "yaml-too-deep": lambda text: text + "x: " + "[" * 2000 + "]" * 2000 + "\n",
    "expression-too-long": lambda text: text + _henan_rule(
        "    when: " + " and ".join(["costs.total > 0"] * 20000) + "\n    value: 0\n"),
    "expression-too-deep": lambda text: text + _henan_rule("    value: " + "if true then " * 200 + "1" + " else 2" * 200 + "\n"),
    "bad-round-places": lambda text: text + _henan_rule("    value: round(costs.total, 99999999999)\n"),
    "bad-date": lambda text: text + _henan_rule("    when: route == \"none\"\n    value: 0\n    effective: {from: 2025-01-01, until: 2025-02-30}\n"),
}


def test_hostile_trees_are_refused_with_409_and_the_old_revision_keeps_serving(server):
    henan = server.policies / "henan" / "policy.yaml"
    original = henan.read_text(encoding="utf-8")
    with server.client() as client:
        before = _revision(client)
        for code, edit in HOSTILE_EDITS.items():
            henan.write_text(edit(original), encoding="utf-8")
            refused = client.post("/v1/admin/reload", headers=AUTH)
            assert refused.status_code == 409, (code, refused.status_code, refused.text[:500])
            found = [d for d in refused.json()["diagnostics"] if d["code"] == code]
            assert found and found[0]["file"].endswith("henan/policy.yaml") and found[0]["line"] > original.count("\n"), code
            assert _revision(client) == before
    assert "Traceback" not in server.stderr_path.read_text(encoding="utf-8")
