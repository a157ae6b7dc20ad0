"""Load test of `yidi serve` with policy reloads under way, over loopback only.

    python bench/load_test.py                 # 60 s, 4 client threads, a reload every 5 s
    python bench/load_test.py --seconds 10    # shorter

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

Reports throughput, p50/p99 latency and errors; exits 1 if there was any
error or any check failed. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
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


def start_server(work: pathlib.Path, policies: pathlib.Path, token: str) -> tuple[subprocess.Popen[str], str]:
    (work / "token").write_text(token)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "engine")}
    process = subprocess.Popen(
        [sys.executable, "-m", "yidi", "serve", "--port", "0", "--policies", str(policies), "--audit-log",
         str(work / "decisions.jsonl"), "--token-file", str(work / "token")],
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
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="yidi-load-"))
    policies = work / "policies"
    shutil.copytree(ROOT / "policies", policies)
    token = secrets.token_hex(16)
    documents = [(ROOT / "examples" / name).read_bytes() for name in EXAMPLES]
    process, url = start_server(work, policies, token)
    try:
        started = time.monotonic()
        deadline = started + args.seconds
        clients = Clients(url, documents, deadline, args.max_requests)
        reloader = Reloader(url, token, policies, args.reload_every, deadline)
        threads = [threading.Thread(target=clients.run, args=(w,)) for w in range(args.clients)]
        threads.append(threading.Thread(target=reloader.run))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - started
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    count, problems = check_log(work / "decisions.jsonl", clients, reloader)
    latencies = sorted(clients.latencies)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    report = {
        "seconds": round(wall, 1), "clients": args.clients, "requests_ok": len(latencies), "errors": len(clients.errors),
        "throughput_per_s": round(len(latencies) / wall, 1), "p50_ms": round(pct(0.50), 2), "p99_ms": round(pct(0.99), 2),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        "reloads_applied": len(reloader.timeline) - 1, "reloads_refused": reloader.refused,
        "revisions": [rev for _, rev in reloader.timeline], "log_records": count,
        "log_problems": len(problems), "reload_problems": len(reloader.problems),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:>18}: {value}")
    for line in (clients.errors[:10] + reloader.problems[:10] + problems[:10]):
        print("  !", line, file=sys.stderr)
    failed = clients.errors or reloader.problems or problems
    if not failed:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work} for inspection", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
