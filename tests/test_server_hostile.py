"""`yidi serve` against hostile clients, end to end: a real server process, real sockets.

No request may hold the service: an absurd number is refused (or logged) in
bounded time while other clients keep being answered; a client sending its
headers or body a byte at a time is cut off; past the connection limit new
requests are answered 503 at once instead of queueing. The figures below are
liveness bounds, generous by orders of magnitude — performance is measured in
bench/load_test.py, not here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from .conftest import EXAMPLES, ROOT
from .server_support import Server, copy_policies, httpx

REFERRAL = (EXAMPLES / "henan-referral.claim.json").read_bytes()
FROZEN = REFERRAL.replace(b'"total": 32000.00', b'"total": 1e1000000')   # once: tens of seconds with the event loop held
PLATFORM = json.dumps({"mdtrt_id": "M-1", "insuplc_admdvs": "410100", "insutype": "310", "mdtrtarea_admvs": "110105", "med_type": "23",
                       "begntime": "2025-03-05 08:30:00", "endtime": "2025-03-12 10:00:00", "medfee_sumamt": "32000.00",
                       "inscp_scp_amt": 26000, "yidi_networked": True, "yidi_hospital_level": 3,
                       "yidi_filing": {"type": "referral", "region": "110000", "start_date": "2025-03-01"}}).encode()
FROZEN_PLATFORM = PLATFORM.replace(b'"mdtrt_id": "M-1"', b'"mdtrt_id": "M-1", "psn_no": 1e1000000')  # ignored, but logged


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("hostile")
    running = Server(work, copy_policies(work / "policies"),
                     args=("--check", "load", "--header-timeout", "1", "--body-timeout", "1", "--limit-concurrency", "16")).start()
    yield running
    running.stop()


def test_the_absurd_numbers_are_refused_or_logged(server):
    assert FROZEN != REFERRAL
    with server.client() as client:
        refused = client.post("/v1/evaluate", content=FROZEN)
        assert refused.status_code == 422 and refused.json()["problems"][0]["path"] == "costs.total"
        logged = client.post("/v1/evaluate", content=FROZEN_PLATFORM, headers={"content-type": "application/vnd.nhsa+json"})
        assert logged.status_code == 200, logged.text


def _latencies(client: httpx.Client, count: int) -> list[float]:
    out = []
    for n in range(count):
        started = time.perf_counter()
        response = client.get("/healthz") if n % 2 else client.post("/v1/evaluate", content=REFERRAL)
        assert response.status_code == 200
        out.append(time.perf_counter() - started)
    return out


def test_other_clients_are_answered_while_absurd_numbers_keep_arriving(server):
    """The hostile client sends until the normal one is done, so the two overlap whatever the speed."""
    with server.client() as client:
        alone = max(_latencies(client, 20))
    done, statuses = threading.Event(), []

    def attack() -> None:
        with httpx.Client(base_url=server.url, timeout=120.0) as hostile:
            while not done.is_set():
                for body, media in ((FROZEN, "application/json"), (FROZEN_PLATFORM, "application/vnd.nhsa+json")):
                    statuses.append(hostile.post("/v1/evaluate", content=body, headers={"content-type": media}).status_code)

    attacker = threading.Thread(target=attack)
    attacker.start()
    try:
        time.sleep(0.3)  # the first hostile request is in the server
        with httpx.Client(base_url=server.url, timeout=120.0) as client:
            during = _latencies(client, 30)
    finally:
        done.set()
        attacker.join(180)
    assert max(during) < max(2.0, 20 * alone), (max(during), alone)
    assert statuses and set(statuses) <= {422, 200}, statuses


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> bool:
    """True if the server closes `sock` within `seconds`, while we keep trickling `trickle` a byte at a time."""
    sock.settimeout(0.25)
    deadline = time.monotonic() + seconds
    for byte in (trickle or b"\0" * 10_000):
        if time.monotonic() > deadline:
            return False
        try:
            if trickle:
                sock.sendall(bytes([byte]))
            data = sock.recv(65536)
            if not data:
                return True
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def _address(server: Server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def test_headers_sent_a_byte_at_a_time_are_cut_off(server):
    with socket.create_connection(_address(server)) as sock:
        assert _closed_within(sock, 15, b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 500)
    with socket.create_connection(_address(server)) as sock:  # a connection that never says anything
        assert _closed_within(sock, 15)


def test_a_body_sent_a_byte_at_a_time_is_answered_408(server):
    with socket.create_connection(_address(server)) as sock:
        sock.sendall(b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        sock.settimeout(15)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408") and b"connection: close" in head.lower()
    assert json.loads(body)["error"] == "request-timeout"


def test_a_body_nobody_reads_cannot_hold_the_connection(server):
    with socket.create_connection(_address(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        assert _closed_within(sock, 20, b"x" * 100_000)


def test_past_the_connection_limit_requests_are_refused_at_once_then_served_again(server):
    idle = [socket.create_connection(_address(server)) for _ in range(16)]
    try:
        for sock in idle:
            sock.sendall(b"GET /hea")
        time.sleep(0.3)
        with server.client() as client:
            assert client.get("/healthz").status_code == 503
    finally:
        for sock in idle:
            sock.close()
    with server.client() as client:
        for _ in range(100):  # the closed ones leave the server's count as their connections end
            if client.get("/healthz").status_code == 200:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the server kept refusing after the idle connections were gone")


def test_the_slow_client_settings_are_options_with_documented_defaults():
    help_text = subprocess.run([sys.executable, "-m", "yidi", "serve", "--help"], capture_output=True, text=True, timeout=60,
                               env={**os.environ, "PYTHONPATH": str(ROOT / "engine")}).stdout
    docs = (ROOT / "docs" / "server.md").read_text(encoding="utf-8")
    from yidi.cli import serve as serve_cli

    for option, default in (("--limit-concurrency", serve_cli.LIMIT_CONCURRENCY), ("--header-timeout", serve_cli.HEADER_TIMEOUT),
                            ("--body-timeout", serve_cli.BODY_TIMEOUT), ("--timeout-keep-alive", serve_cli.KEEP_ALIVE),
                            ("--max-header-bytes", serve_cli.MAX_HEADER_BYTES)):
        assert option in help_text
        row = next(line for line in docs.splitlines() if line.startswith(f"| `{option}"))
        assert f"{default:g}" in row.replace(",", "").replace(" ", ""), row


def test_serve_without_the_serve_extra_says_which_extra_to_install():
    code = ("import sys; sys.modules['uvicorn'] = None; from yidi.cli import main; "
            "sys.exit(main(['serve', '--port', '0', '--check', 'load']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "engine")})
    assert result.returncode == 1
    assert "pip install 'yidi[serve]'" in result.stderr and "uvicorn" in result.stderr
    assert "Traceback" not in result.stderr
