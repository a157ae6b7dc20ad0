"""Prometheus metrics, written by hand in the text exposition format.

A handful of counters and one histogram do not justify a dependency; the
format is simple and stable. Labels take only values from fixed sets (known
route templates, decision routes, status codes), so a client sending random
paths cannot blow up the number of series.
"""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    escaped = (f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34)).replace(chr(10), " ")}"' for k, v in pairs)
    return "{" + ",".join(escaped) + "}"


class Metrics:
    """Thread-safe counters and a latency histogram; `render()` gives the /metrics text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        self._decisions: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        self._reloads: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        self._latency: dict[str, list[int]] = {}
        self._latency_sum: dict[str, float] = defaultdict(float)
        self._latency_count: dict[str, int] = defaultdict(int)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(("method", method), ("route", route), ("status", str(status)))] += 1
            counts = self._latency.setdefault(route, [0] * len(BUCKETS))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            self._latency_sum[route] += seconds
            self._latency_count[route] += 1

    def decision(self, kind: str, outcome: str) -> None:
        """`outcome`: the settlement route (direct/manual/none), allowed/refused for filings, or an error code."""
        with self._lock:
            self._decisions[(("kind", kind), ("outcome", outcome))] += 1

    def reload(self, outcome: str) -> None:
        with self._lock:
            self._reloads[(("outcome", outcome),)] += 1

    def render(self, revision: str) -> str:
        with self._lock:
            lines = ["# HELP yidi_http_requests_total HTTP requests by method, route template and status.",
                     "# TYPE yidi_http_requests_total counter"]
            lines += [f"yidi_http_requests_total{_labels(k)} {v}" for k, v in sorted(self._requests.items())]
            lines += ["# HELP yidi_http_request_duration_seconds Time from request start to the last response byte.",
                      "# TYPE yidi_http_request_duration_seconds histogram"]
            for route in sorted(self._latency):
                for bound, count in zip(BUCKETS, self._latency[route]):
                    lines.append(f"yidi_http_request_duration_seconds_bucket{_labels((('route', route), ('le', repr(bound))))} {count}")
                lines.append(f"yidi_http_request_duration_seconds_bucket{_labels((('route', route), ('le', '+Inf')))} {self._latency_count[route]}")
                lines.append(f"yidi_http_request_duration_seconds_sum{_labels((('route', route),))} {self._latency_sum[route]:.6f}")
                lines.append(f"yidi_http_request_duration_seconds_count{_labels((('route', route),))} {self._latency_count[route]}")
            lines += ["# HELP yidi_decisions_total Answers by document kind and outcome (settlement route for claims).",
                      "# TYPE yidi_decisions_total counter"]
            lines += [f"yidi_decisions_total{_labels(k)} {v}" for k, v in sorted(self._decisions.items())]
            lines += ["# HELP yidi_policy_reloads_total Policy reloads by outcome.", "# TYPE yidi_policy_reloads_total counter"]
            lines += [f"yidi_policy_reloads_total{_labels(k)} {v}" for k, v in sorted(self._reloads.items())]
            lines += ["# HELP yidi_policy_info The policy revision being served.", "# TYPE yidi_policy_info gauge",
                      f"yidi_policy_info{_labels((('revision', revision),))} 1"]
        return "\n".join(lines) + "\n"
