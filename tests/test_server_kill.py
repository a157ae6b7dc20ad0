"""kill -9 under load: the decision log still parses, and every acknowledged decision is in it."""

from __future__ import annotations

import json
import threading
import time

from yidi.audit import read_log

from .conftest import EXAMPLES
from .server_support import Server, copy_policies, httpx

REFERRAL = json.loads((EXAMPLES / "henan-referral.claim.json").read_text(encoding="utf-8"))


def test_kill_9_mid_load_loses_no_acknowledged_decision(tmp_path):
    policies = copy_policies(tmp_path / "policies")
    server = Server(tmp_path, policies, args=("--check", "load")).start()
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(worker: int) -> None:
        with server.client() as http:
            for n in range(100_000):
                if stop.is_set():
                    return
                request_id = f"w{worker}-{n}"
                try:
                    response = http.post("/v1/evaluate", json=REFERRAL, headers={"x-request-id": request_id})
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(request_id)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(acknowledged) < 200:
        time.sleep(0.05)
    server.kill()  # SIGKILL mid-load: requests are in flight
    stop.set()
    for t in threads:
        t.join(30)
    assert len(acknowledged) >= 200

    # A machine crash could also tear the last line; fake one so the restart must deal with it.
    with open(server.audit, "ab") as log:
        log.write(b'{"time":"2025-01-01T00:00:00+00:00","request_id":"torn","inp')
    restarted = Server(tmp_path, policies, audit=server.audit, args=("--check", "load")).start()
    try:
        assert "torn line" in restarted.stderr
        with restarted.client() as http:
            assert http.post("/v1/evaluate", json=REFERRAL, headers={"x-request-id": "after-restart"}).status_code == 200
    finally:
        restarted.stop()
    logged = [entry["request_id"] for _, entry in read_log(server.audit)]  # raises if any line does not parse
    assert set(acknowledged) <= set(logged)
    assert "torn" not in logged and logged[-1] == "after-restart"
    quarantined = list(tmp_path.glob("decisions.jsonl.torn-*"))
    assert len(quarantined) == 1 and quarantined[0].read_bytes().endswith(b'"inp')
