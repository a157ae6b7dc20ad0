"""What `yidi diff` counts: who is affected, how many, how much — and which claims to show.

`Tally` holds only counters and sums, so the counts of one block of claims
(decided in a worker process) merge into the run's total exactly. `Summary`
adds what only the parent can keep: the examples, chosen by impact.

Definitions (the report states them at the top):
* an *outcome change* is any compared field other than the policy's label
  moving (route, filing status, treatment, reduction, ratio, amounts, flags,
  undetermined outputs, undecidable); a *label-only change* is a claim decided
  the same way under another policy's name (henan → luoyang);
* *undecidable*: the policy could not decide (a rule conflict, no applicable
  rule); *fund undetermined*: the decision leaves the fund's payment open
  (contract §2.1). Neither is ever counted as money: the money totals cover
  the claims whose fund payment is known under both trees, and the others
  are counted apart;
* *better off* / *worse off*: the fund pays more / less for the claim.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from decimal import Decimal
from typing import Any

DIMENSIONS = ("insured_region", "scheme", "visit_kind", "treatment")
MAX_TRANSITIONS = 200     # distinct (old, new) pairs kept per field; the rest are counted under "…"
MAX_KINDS = 20            # kinds of change shown with one example each
NUMERIC = {"amounts.deductible", "amounts.fund", "amounts.personal"}   # too many values to count transitions
CATEGORICAL = ("policy", "scope", "filing_status", "treatment", "route", "catalog")

# Fund change per claim, in signed decades of yuan, for the distribution chart.
BIN_EDGES = (Decimal(1), Decimal(10), Decimal(100), Decimal(1000), Decimal(10000))


def is_outcome(changed: tuple[str, ...]) -> bool:
    """Whether the changed fields change the outcome; only "policy" moving is a change of label."""
    return any(field != "policy" for field in changed)


def fund_bin(delta: Decimal) -> int:
    """−6…−1 for decreases (−6: more than 10,000 yuan), 1…6 for increases; 0 is never a bin (no change)."""
    size = abs(delta)
    index = next((i for i, edge in enumerate(BIN_EDGES) if size <= edge), len(BIN_EDGES)) + 1
    return index if delta > 0 else -index


class Group:
    """The counts of one row of a breakdown (one insured region, scheme, visit kind or treatment)."""

    __slots__ = ("claims", "outcome", "label", "better", "worse", "delta", "largest_gain", "largest_loss", "unknown")

    def __init__(self) -> None:
        self.claims = self.outcome = self.label = self.better = self.worse = self.unknown = 0
        self.delta = Decimal(0)
        self.largest_gain: Decimal | None = None     # the largest single increase of the fund's payment
        self.largest_loss: Decimal | None = None     # the largest single decrease (a negative number)

    def merge(self, other: Group) -> None:
        self.claims += other.claims
        self.outcome += other.outcome
        self.label += other.label
        self.better += other.better
        self.worse += other.worse
        self.unknown += other.unknown
        self.delta += other.delta
        self.largest_gain = _max(self.largest_gain, other.largest_gain)
        self.largest_loss = _min(self.largest_loss, other.largest_loss)

    def to_json(self) -> dict[str, Any]:
        return {"claims": self.claims, "outcome_changed": self.outcome, "label_only": self.label, "better_off": self.better,
                "worse_off": self.worse, "fund_delta": self.delta, "largest_gain": self.largest_gain,
                "largest_loss": self.largest_loss, "fund_known_in_one_only": self.unknown}


def _max(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return b if a is None else a if b is None else max(a, b)


def _min(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return b if a is None else a if b is None else min(a, b)


class Tally:
    """Counters over compared claims; `merge` adds another block's."""

    def __init__(self) -> None:
        self.claims = self.invalid = self.not_claims = 0
        self.outcome = self.label = 0
        self.fields: Counter[str] = Counter()
        self.transitions: dict[str, Counter] = {}
        self.undecidable_old = self.undecidable_new = self.became_undecidable = self.became_decidable = 0
        self.fund_unknown_old = self.fund_unknown_new = self.fund_appeared = self.fund_vanished = 0
        self.fund_old = self.fund_new = Decimal(0)
        self.better = self.worse = 0
        self.bins: Counter[int] = Counter()
        self.groups: dict[str, dict[Any, Group]] = {d: {} for d in DIMENSIONS}

    def count(self, flat: dict[str, Any], a: dict[str, Any], b: dict[str, Any], changed: tuple[str, ...]) -> None:
        """Count one claim: its context (`flat`), its compared fields under the old (`a`) and new (`b`) trees."""
        self.claims += 1
        ea, eb = a["error"] is not None, b["error"] is not None
        self.undecidable_old += ea
        self.undecidable_new += eb
        self.became_undecidable += eb and not ea
        self.became_decidable += ea and not eb
        fa, fb = a["amounts.fund"], b["amounts.fund"]
        self.fund_unknown_old += fa is None
        self.fund_unknown_new += fb is None
        delta = None
        if fa is not None and fb is not None:   # money only where both trees know the fund's payment
            self.fund_old += fa
            self.fund_new += fb
            delta = fb - fa
        elif fb is not None:
            self.fund_appeared += 1
        elif fa is not None:
            self.fund_vanished += 1
        outcome = label = False
        if changed:
            outcome = is_outcome(changed)
            label = not outcome
            self.outcome += outcome
            self.label += label
            self.fields.update(changed)
            for f in changed:
                if f not in NUMERIC:
                    self._transition(f, a[f], b[f])
            if delta:
                self.bins[fund_bin(delta)] += 1
                self.better += delta > 0
                self.worse += delta < 0
        keys = (flat["insured.region"], flat["insured.scheme"], flat["visit.kind"], b["treatment"] or a["treatment"])
        unknown = (fa is None) != (fb is None)
        for dimension, key in zip(DIMENSIONS, keys):
            rows = self.groups[dimension]
            group = rows.get(key)
            if group is None:
                group = rows[key] = Group()
            group.claims += 1
            if changed:
                group.outcome += outcome
                group.label += label
                group.unknown += unknown
                if delta:
                    group.delta += delta
                    if delta > 0:
                        group.better += 1
                        group.largest_gain = _max(group.largest_gain, delta)
                    else:
                        group.worse += 1
                        group.largest_loss = _min(group.largest_loss, delta)

    def _transition(self, field: str, old: Any, new: Any) -> None:
        counter = self.transitions.get(field)
        if counter is None:
            counter = self.transitions[field] = Counter()
        key = (old, new)
        if key in counter or len(counter) < MAX_TRANSITIONS:
            counter[key] += 1
        else:
            counter[("…", "…")] += 1

    def merge(self, other: Tally) -> None:
        for name in ("claims", "invalid", "not_claims", "outcome", "label", "undecidable_old", "undecidable_new",
                     "became_undecidable", "became_decidable", "fund_unknown_old", "fund_unknown_new", "fund_appeared",
                     "fund_vanished", "fund_old", "fund_new", "better", "worse"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.fields.update(other.fields)
        self.bins.update(other.bins)
        for field, counter in other.transitions.items():
            mine = self.transitions.setdefault(field, Counter())
            for key, n in counter.items():
                mine[key if key in mine or len(mine) < MAX_TRANSITIONS else ("…", "…")] += n
        for dimension, rows in other.groups.items():
            mine_rows = self.groups[dimension]
            for key, group in rows.items():
                if key in mine_rows:
                    mine_rows[key].merge(group)
                else:
                    mine_rows[key] = group

    @property
    def fund_delta(self) -> Decimal:
        return self.fund_new - self.fund_old

    @property
    def changed(self) -> int:
        return self.outcome + self.label


class Summary:
    """The run's tally, the invalid lines seen first, and the examples chosen by impact.

    Examples, in the order the report shows them:
    1. every claim made worse off (the fund pays less), largest loss first — up to `sample`;
    2. claims that became undecidable or whose fund payment became undetermined — up to `sample`;
    3. the largest changes either way not already shown — up to `sample`;
    4. one claim for each kind of change (which fields moved, and how the labels moved) not yet shown.
    """

    def __init__(self, sample: int = 20, max_kinds: int | None = MAX_KINDS):
        self.tally = Tally()
        self.sample = sample
        self.max_kinds = max_kinds          # None: one example of every kind (a partition's candidates, see `kept`)
        self.partial = False
        self.invalid_examples: list[dict] = []
        self._order = itertools.count()
        self._worse: list[tuple] = []        # (loss, -order, record), the `sample` largest losses
        self._largest: list[tuple] = []      # (|delta|, -order, record), the `sample` largest changes
        self._unknown: list[dict] = []
        self._kinds: dict[tuple, dict] = {}

    def add(self, block: tuple[Tally, list[dict], list[dict]]) -> None:
        tally, changes, invalid = block
        self.tally.merge(tally)
        for item in invalid:
            if len(self.invalid_examples) < 5:
                self.invalid_examples.append(item)
        for record in changes:
            self.consider(record)

    def consider(self, record: dict[str, Any]) -> None:
        """Keep `record` if it is among the examples worth showing so far."""
        n = next(self._order)
        delta = record["fund_delta"]
        if delta is not None and delta < 0:
            self._push(self._worse, -delta, n, record)
        if delta:
            self._push(self._largest, abs(delta), n, record)
        fa, fb = record["fund"]
        became_undecidable = "error" in record["changes"] and record["changes"]["error"][1] is not None
        if (fb is None and fa is not None) or became_undecidable:
            if len(self._unknown) < self.sample:
                self._unknown.append(record)
        kind = signature(record)
        if kind not in self._kinds and (self.max_kinds is None or len(self._kinds) < self.max_kinds):
            self._kinds[kind] = record

    def kept(self) -> list[dict[str, Any]]:
        """Every record that may still be shown, each once, in the order seen (records are in line order).

        A `Summary(sample, max_kinds=None)` per part of the input keeps a superset
        of that part's records among the examples; considering the parts' kept
        records in input order then chooses the very examples one Summary over
        every record would (yidi.spark compares a table partition by partition).
        """
        seen: dict[int, dict[str, Any]] = {}
        for record in itertools.chain((r for *_, r in self._worse), (r for *_, r in self._largest), self._unknown,
                                      self._kinds.values()):
            seen.setdefault(id(record), record)
        return sorted(seen.values(), key=lambda record: record["line"])

    def _push(self, heap: list, priority: Decimal, n: int, record: dict) -> None:
        """Keep in `heap` the `sample` records of highest priority; of equal ones, those seen first."""
        entry = (priority, -n, record)
        if len(heap) < self.sample:
            heapq.heappush(heap, entry)
        elif entry[:2] > heap[0][:2]:
            heapq.heapreplace(heap, entry)

    def examples(self) -> list[tuple[str, dict]]:
        """(why it is shown, record) in the report's order; each claim once."""
        shown: set[str] = set()
        out: list[tuple[str, dict]] = []

        def take(reason: str, records) -> None:
            for record in records:
                if record["id"] not in shown:
                    shown.add(record["id"])
                    out.append((reason, record))

        take("worse", [r for *_, r in sorted(self._worse, key=lambda e: e[:2], reverse=True)])
        take("unknown", self._unknown)
        take("largest", [r for *_, r in sorted(self._largest, key=lambda e: e[:2], reverse=True)])
        take("kind", self._kinds.values())
        return out


def signature(record: dict[str, Any]) -> tuple:
    """The kind of a change: which fields moved, and how the categorical ones moved."""
    changes = record["changes"]
    return (record["change"], tuple(changes),
            tuple((f, *map(str, changes[f])) for f in CATEGORICAL if f in changes))
