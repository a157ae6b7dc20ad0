"""Load test of `yidi serve` with policy reloads under way, over loopback only.

    python bench/load_test.py                 # 60 s, 4 client threads, a reload every 5 s
    python bench/load_test.py --seconds 10    # shorter
    python bench/load_test.py --hostile       # 60 s: 30 s of normal traffic, then 30 s of the same with hostile clients

What it does, and why each part:

* starts a real `yidi serve` (second process) on 127.0.0.1 with a private
  copy of the shipped policies, a decision log and an admin token;
* client threads send the shipped example claims and filing request as fast
  as the server answers, bounded by --seconds and --max-requests;
* every --reload-every seconds it edits the policy tree and reloads it over
  HTTP: mostly a valid change (new revision expected), every third time a
  broken file (the reload must be refused and the old revision keep serving);
* at the end it stops the server and checks the decision log: every line
  parses, every acknowledged decision is in it, and every record names the
  revision that was being served at the moment the request was bound to an
  engine (from the server's own swap times).

With --hostile the time is split in two halves on the same server: normal
traffic alone, then the same normal traffic while --hostile-clients threads
send hostile requests (absurd numbers, including one in an ignored platform
field that gets logged; 5,000 unknown keys, and 90,000 — past the body limit;
text that is not UTF-8 or holds
a lone surrogate; 1,000 levels of nesting; dates out of range) and a slow
client keeps opening connections that send their headers or body a byte at a
time. It reports the normal requests' p99 in both halves and their ratio
(issue 11 asks for at most 2×); every hostile answer must be its expected
status and every slow connection must be cut off by the server.

Reports throughput, p50/p99 latency and errors; exits 1 if there was any
error or any check failed. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import bisect
import concurrent.futures
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import httpx

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "engine"))

from yidi.audit import read_log  # noqa: E402

EXAMPLES = ["henan-referral.claim.json", "henan-newborn.claim.json", "henan-commitment-home.claim.json",
            "henan-cancel-locked.filing.json"]


def start_server(work: pathlib.Path, policies: pathlib.Path, token: str, extra: list[str] = []) -> tuple[subprocess.Popen[str], str]:  # noqa: B006
    (work / "token").write_text(token)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "engine")}
    process = subprocess.Popen(
        [sys.executable, "-m", "yidi", "serve", "--port", "0", "--policies", str(policies), "--audit-log",
         str(work / "decisions.jsonl"), "--token-file", str(work / "token"), *extra],
        stdout=subprocess.PIPE, stderr=open(work / "server.err", "w"), text=True, env=env)
    line = process.stdout.readline() if process.stdout else ""
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
    if not match:
        process.kill()
        raise SystemExit(f"server did not start: {line!r}\n{(work / 'server.err').read_text()}")
    return process, match[1]


class Clients:
    """Client threads: latency of each 200 answer, every error, every acknowledged request id."""

    def __init__(self, url: str, documents: list[bytes], deadline: float, max_requests: int):
        self.url, self.documents, self.deadline, self.max_requests = url, documents, deadline, max_requests
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.acknowledged: dict[str, str] = {}   # request id → revision in the answer
        self._lock = threading.Lock()
        self._count = 0

    def _next(self) -> int | None:
        with self._lock:
            if self._count >= self.max_requests or time.monotonic() >= self.deadline:
                return None
            self._count += 1
            return self._count

    def run(self, worker: int) -> None:
        with httpx.Client(base_url=self.url, timeout=30.0) as client:
            while (n := self._next()) is not None:
                request_id = f"w{worker}-{n}"
                body = self.documents[n % len(self.documents)]
                started = time.perf_counter()
                try:
                    response = client.post("/v1/evaluate", content=body, headers={
                        "content-type": "application/json", "x-request-id": request_id})
                except httpx.HTTPError as exc:
                    with self._lock:
                        self.errors.append(f"{request_id}: {exc!r}")
                    continue
                elapsed = time.perf_counter() - started
                with self._lock:
                    if response.status_code == 200:
                        self.latencies.append(elapsed)
                        self.acknowledged[request_id] = response.json()["policy"]["revision"]
                    else:
                        self.errors.append(f"{request_id}: HTTP {response.status_code} {response.text[:200]}")


class Reloader:
    """Edits the tree and reloads it every `every` seconds; records each revision's start time (server clock)."""

    def __init__(self, url: str, token: str, policies: pathlib.Path, every: float, deadline: float):
        self.url, self.token, self.policies, self.every, self.deadline = url, token, policies, every, deadline
        self.timeline: list[tuple[str, str]] = []  # (since, revision), in order
        self.refused = 0
        self.problems: list[str] = []

    def run(self) -> None:
        target = self.policies / "national" / "policy.yaml"
        original = target.read_text(encoding="utf-8")
        auth = {"authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, timeout=60.0) as client:
            ready = client.get("/readyz").json()
            self.timeline.append((ready["since"], ready["revision"]))
            generation = 0
            while time.monotonic() + self.every < self.deadline:
                time.sleep(self.every)
                generation += 1
                broken = generation % 3 == 0
                text = original.replace("type: number", "type: numbr", 1) if broken else original + f"\n# load test generation {generation}\n"
                target.write_text(text, encoding="utf-8")
                response = client.post("/v1/admin/reload", headers=auth)
                body = response.json()
                if broken:
                    if response.status_code != 409 or body.get("serving") != self.timeline[-1][1]:
                        self.problems.append(f"broken tree not refused: {response.status_code} {response.text[:200]}")
                    self.refused += 1
                    target.write_text(original, encoding="utf-8")
                elif response.status_code != 200 or not body.get("changed"):
                    self.problems.append(f"valid reload failed: {response.status_code} {response.text[:300]}")
                else:
                    self.timeline.append((body["since"], body["revision"]))


def hostile_requests(documents: list[bytes]) -> list[tuple[str, bytes, str, tuple[int, ...]]]:
    """(name, body, content type, expected statuses) of the hostile mix."""
    claim = documents[0]
    platform = json.dumps({"mdtrt_id": "M-1", "insuplc_admdvs": "410100", "insutype": "310", "mdtrtarea_admvs": "110105",
                           "med_type": "23", "begntime": "2025-03-05 08:30:00", "endtime": "2025-03-12 10:00:00",
                           "medfee_sumamt": "32000.00", "inscp_scp_amt": 26000, "yidi_networked": True, "yidi_hospital_level": 3,
                           "psn_no": "@@", "yidi_filing": {"type": "referral", "region": "110000", "start_date": "2025-03-01"}})
    unknown, some_unknown = json.loads(claim), json.loads(claim)
    unknown.update({f"{i:x}": 0 for i in range(90_000)})
    some_unknown.update({f"{i:x}": 0 for i in range(5_000)})  # 50 KB: under the default --max-body
    json_type, nhsa_type = "application/json", "application/vnd.nhsa+json"
    return [
        ("total 1e1000000", claim.replace(b'"total": 32000.00', b'"total": 1e1000000'), json_type, (422,)),
        ("ignored platform field 1e1000000 (decided, logged)", platform.replace('"@@"', "1e1000000").encode(), nhsa_type, (200,)),
        # 413 under the default --max-body (64 KiB); 422 if a --serve-arg raised it past 0.9 MB
        ("90,000 unknown keys (0.9 MB)", json.dumps(unknown, separators=(",", ":")).encode(), json_type, (413, 422)),
        ("5,000 unknown keys", json.dumps(some_unknown, separators=(",", ":")).encode(), json_type, (422,)),
        ("UTF-16 text", claim.decode("utf-8").encode("utf-16"), json_type, (400,)),
        ("lone surrogate", claim.replace(b'"EX-HN-REFERRAL"', b'"\\ud800"'), json_type, (400,)),
        ("1,000 levels of nesting", claim.replace(b'"total": 32000.00', b'"total": ' + b"[" * 1000 + b"]" * 1000), json_type, (400,)),
        ("date 9999-12-31", claim.replace(b'"2025-03-12"', b'"9999-12-31"'), json_type, (422,)),
    ]


class Hostile:
    """Hostile clients until `deadline`: the requests above, round robin, and slow connections cut off by the server."""

    def __init__(self, url: str, requests: list[tuple[str, bytes, str, tuple[int, ...]]], deadline: float, interval: float):
        self.url, self.requests, self.deadline, self.interval = url, requests, deadline, interval
        self.sent: dict[str, int] = {name: 0 for name, *_ in requests}
        self.errors: list[str] = []
        self.slow_opened = self.slow_cut = 0
        self._lock = threading.Lock()

    def run(self, worker: int) -> None:
        with httpx.Client(base_url=self.url, timeout=60.0) as client:
            n = worker
            next_at = time.monotonic()
            while (now := time.monotonic()) < self.deadline:
                if now < next_at:
                    time.sleep(next_at - now)
                next_at += self.interval  # a steady rate: a mix of hostile requests, not a flood
                name, body, media, expected = self.requests[n % len(self.requests)]
                n += 1
                try:
                    status = client.post("/v1/evaluate", content=body, headers={"content-type": media}).status_code
                except httpx.HTTPError as exc:
                    status, detail = -1, repr(exc)
                else:
                    detail = ""
                with self._lock:
                    self.sent[name] += 1
                    if status not in expected:
                        self.errors.append(f"{name}: HTTP {status} (expected {' or '.join(map(str, expected))}) {detail}")

    def slow(self) -> None:
        """Connections that send their headers, or their body, a byte every 0.2 s; the server must close each."""
        host, port = self.url.removeprefix("http://").split(":")
        heads = [b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000,
                 b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n" + b"{" * 10_000]
        while time.monotonic() < self.deadline:
            socks = []
            for i in range(20):
                sock = socket.create_connection((host, int(port)))
                sock.setblocking(False)
                socks.append((sock, heads[i % 2]))
            self.slow_opened += len(socks)
            position = 0
            while socks and time.monotonic() < self.deadline + 60:
                for sock, data in list(socks):
                    try:
                        if position < len(data):
                            sock.send(data[position:position + 1])
                        if sock.recv(65536) == b"":
                            raise ConnectionResetError
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        sock.close()
                        socks.remove((sock, data))
                        self.slow_cut += 1
                position += 1
                time.sleep(0.2)
            for sock, _ in socks:
                sock.close()


def run_hostile(url: str, documents: list[bytes], seconds: float, clients: int, rate: float) -> dict[str, object]:
    """The hostile clients, in a process of their own: their work must not slow the normal clients' process."""
    hostile = Hostile(url, hostile_requests(documents), time.monotonic() + seconds, clients / rate)
    threads = [threading.Thread(target=hostile.run, args=(w,)) for w in range(clients)]
    threads.append(threading.Thread(target=hostile.slow))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"sent": hostile.sent, "errors": hostile.errors, "slow_opened": hostile.slow_opened, "slow_cut": hostile.slow_cut}


def check_log(path: pathlib.Path, clients: Clients, reloader: Reloader) -> tuple[int, list[str]]:
    """Every line parses; every acknowledged decision is logged; every record's revision was serving at its time."""
    problems: list[str] = []
    starts = [since for since, _ in reloader.timeline]
    logged: dict[str, str] = {}
    count = 0
    for line, entry in read_log(path):
        count += 1
        logged[entry["request_id"]] = entry["revision"]
        at = bisect.bisect_right(starts, entry["time"]) - 1
        serving = reloader.timeline[at][1] if at >= 0 else None
        if entry["revision"] != serving:
            problems.append(f"line {line}: {entry['request_id']} at {entry['time']} names {entry['revision']}, "
                            f"but {serving} was serving then")
    for request_id, revision in clients.acknowledged.items():
        if logged.get(request_id) != revision:
            problems.append(f"acknowledged {request_id} ({revision}) is not in the log as such")
    return count, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to send requests (default 60)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--reload-every", type=float, default=5.0, help="seconds between reloads (default 5)")
    parser.add_argument("--max-requests", type=int, default=2_000_000, help="upper bound on requests (default 2,000,000)")
    parser.add_argument("--hostile", action="store_true", help="first half normal traffic, second half with hostile clients too")
    parser.add_argument("--hostile-clients", type=int, default=2, help="hostile client threads with --hostile (default 2)")
    parser.add_argument("--hostile-rate", type=float, default=20.0, help="hostile requests per second, all clients together (default 20)")
    parser.add_argument("--serve-arg", action="append", default=[], metavar="ARG",
                        help="an extra argument for yidi serve, e.g. --serve-arg=--max-body=1048576 (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="yidi-load-"))
    policies = work / "policies"
    shutil.copytree(ROOT / "policies", policies)
    token = secrets.token_hex(16)
    documents = [(ROOT / "examples" / name).read_bytes() for name in EXAMPLES]
    process, url = start_server(work, policies, token, args.serve_arg)
    phases = [("normal", args.seconds / 2), ("hostile", args.seconds / 2)] if args.hostile else [("normal", args.seconds)]
    runs: list[tuple[str, float, Clients, Reloader, dict | None]] = []
    pool = concurrent.futures.ProcessPoolExecutor(1) if args.hostile else None
    try:
        for phase, seconds in phases:
            started = time.monotonic()
            deadline = started + seconds
            clients = Clients(url, documents, deadline, args.max_requests)
            reloader = Reloader(url, token, policies, args.reload_every, deadline)
            threads = [threading.Thread(target=clients.run, args=(w,)) for w in range(args.clients)]
            threads.append(threading.Thread(target=reloader.run))
            attack = pool.submit(run_hostile, url, documents, seconds, args.hostile_clients, args.hostile_rate) if pool and phase == "hostile" else None
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            runs.append((phase, time.monotonic() - started, clients, reloader, attack.result() if attack else None))
    finally:
        if pool:
            pool.shutdown()
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    clients, reloader = Clients(url, documents, 0, 0), Reloader(url, token, policies, 0, 0)
    for _, _, phase_clients, phase_reloader, _ in runs:  # one log, checked against every phase's requests and reloads
        clients.acknowledged.update(phase_clients.acknowledged)
        clients.errors += phase_clients.errors
        clients.latencies += phase_clients.latencies
        reloader.timeline += phase_reloader.timeline
        reloader.refused += phase_reloader.refused
        reloader.problems += phase_reloader.problems
    count, problems = check_log(work / "decisions.jsonl", clients, reloader)

    def pct(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2) if ordered else float("nan")

    wall = sum(seconds for _, seconds, *_ in runs)
    latencies = clients.latencies
    report: dict[str, object] = {
        "seconds": round(wall, 1), "clients": args.clients, "requests_ok": len(latencies), "errors": len(clients.errors),
        "throughput_per_s": round(len(latencies) / wall, 1), "p50_ms": pct(latencies, 0.50), "p99_ms": pct(latencies, 0.99),
        "max_ms": round(max(latencies) * 1000, 2) if latencies else None,
        "reloads_applied": len({rev for _, rev in reloader.timeline}) - 1, "reloads_refused": reloader.refused,
        "revisions": list(dict.fromkeys(rev for _, rev in reloader.timeline)), "log_records": count,
        "log_problems": len(problems), "reload_problems": len(reloader.problems),
    }
    hostile_errors: list[str] = []
    for phase, seconds, phase_clients, _, hostile in runs if args.hostile else ():
        report[f"{phase}_seconds"] = round(seconds, 1)
        report[f"{phase}_requests_ok"] = len(phase_clients.latencies)
        report[f"{phase}_throughput_per_s"] = round(len(phase_clients.latencies) / seconds, 1)
        report[f"{phase}_p50_ms"] = pct(phase_clients.latencies, 0.50)
        report[f"{phase}_p99_ms"] = pct(phase_clients.latencies, 0.99)
        if hostile:
            report["hostile_requests"] = hostile["sent"]
            report["hostile_unexpected"] = len(hostile["errors"])
            report["slow_connections_opened"] = hostile["slow_opened"]
            report["slow_connections_cut"] = hostile["slow_cut"]
            hostile_errors = list(hostile["errors"])
            if hostile["slow_cut"] != hostile["slow_opened"]:
                hostile_errors.append(f"{hostile['slow_opened'] - hostile['slow_cut']} slow connection(s) were never cut off")
    if args.hostile:
        report["p99_ratio_hostile_to_normal"] = round(float(report["hostile_p99_ms"]) / float(report["normal_p99_ms"]), 2)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:>18}: {value}")
    for line in (clients.errors[:10] + reloader.problems[:10] + problems[:10] + hostile_errors[:10]):
        print("  !", line, file=sys.stderr)
    failed = clients.errors or reloader.problems or problems or hostile_errors
    if not failed:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work} for inspection", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
