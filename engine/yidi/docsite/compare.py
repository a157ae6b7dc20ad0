"""The region-comparison table: the same situations, decided by every policy.

Each situation is a claim built for an insured region of the policy being
compared (so the policy under test is the one the engine selects), with the
care abroad in another province. The cell is what the engine decides —
treatment, reduction, route — or, when the policy cannot decide, the
engine's own reason; an output the policies leave to someone else (a
partial decision) says so, with the clause that leaves it: the table never
fills a gap.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..engine import Engine
from ..errors import EvaluationError
from .facts import Validity, insured_region, province_of, visit_place

Day = datetime.date
_D = datetime.timedelta


@dataclass(frozen=True)
class Situation:
    key: str
    title: str
    build: Callable[[str, str, Day, Validity | None], dict[str, Any]]


@dataclass(frozen=True)
class Cell:
    treatment: str | None = None
    reduction: Any = None
    route: str | None = None
    flags: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    error: str | None = None
    undetermined: tuple[tuple[str, str | None], ...] = ()   # (output, clause that leaves it open)


def _claim(key: str, insured: str, visit: str, admitted: Day, discharged: Day, filing: dict | None = None,
           birth: Day | None = None, **visit_flags: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "claim", "id": f"CMP-{key}",
        "insured": {"region": insured, "scheme": "employee"},
        "visit": {"kind": "inpatient", "region": visit, "networked": True, "hospital_level": 3,
                  "admission_date": admitted.isoformat(), "discharge_date": discharged.isoformat(), **visit_flags},
        "costs": {"total": 20000.00, "in_scope": 16000.00},
    }
    if birth is not None:
        doc["insured"]["birth_date"] = birth.isoformat()
    if filing is not None:
        doc["filing"] = {"basis": "materials", **filing}
    return doc


def _temporary(visit: str, start: Day, filed: Day | None = None) -> dict[str, Any]:
    return {"type": "other_temporary", "region": province_of(visit), "start_date": start.isoformat(),
            "filed_on": (filed or start).isoformat()}


def _back_home(insured, visit, day, validity):
    return _claim("home", insured, insured, day - _D(10), day - _D(5), _temporary(visit, day - _D(40)))


def _unfiled(insured, visit, day, validity):
    return _claim("unfiled", insured, visit, day - _D(10), day - _D(3))


def _across_end(insured, visit, day, validity):
    # Admitted on the filing's last valid day, discharged ten days later.
    start = validity.start if validity is not None else day - _D(400)
    last = validity.end if validity is not None and validity.end is not None else start + _D(179)
    return _claim("across-end", insured, visit, last, last + _D(10), _temporary(visit, start))


def _retro(insured, visit, day, validity):
    admitted = day - _D(10)
    return _claim("retro", insured, visit, admitted, admitted + _D(8), _temporary(visit, admitted, admitted + _D(2)))


def _newborn(insured, visit, day, validity):
    return _claim("newborn", insured, visit, day - _D(10), day - _D(2), birth=day - _D(18))


def _psychiatric(insured, visit, day, validity):
    return _claim("psychiatric", insured, visit, day - _D(10), day - _D(2), psychiatric_certificate=True)


def _emergency(insured, visit, day, validity):
    return _claim("emergency", insured, visit, day - _D(10), day - _D(6), emergency=True)


SITUATIONS: tuple[Situation, ...] = (
    Situation("home", "临时外出就医备案人员（其他临时外出）在备案有效期内回参保地住院", _back_home),
    Situation("unfiled", "未备案、非急诊、未转诊，跨省住院", _unfiled),
    Situation("across-end", "入院在临时备案有效期最后一日，出院在有效期之后", _across_end),
    Situation("retro", "入院后第2天补办临时备案（出院前），跨省住院", _retro),
    Situation("newborn", "出生8天的新生儿，未备案，跨省住院", _newborn),
    Situation("psychiatric", "持精神类疾病诊断证明，未备案，跨省住院", _psychiatric),
    Situation("emergency", "急诊抢救，未备案，跨省住院", _emergency),
)


def decide(engine: Engine, policy_id: str, situation: Situation, day: Day, validity: Validity | None) -> tuple[dict | None, Cell]:
    """Build the situation's claim for `policy_id` and decide it; the cell says what came out."""
    insured = insured_region(engine.policies, policy_id)
    if insured is None:
        return None, Cell(error="没有可用于本政策的参保地区划")
    claim = situation.build(insured, visit_place(insured), day, validity)
    try:
        decision = engine.evaluate(claim, trace="ids")
    except EvaluationError as exc:
        return claim, Cell(error=exc.message_zh)
    rules = tuple(r for r in decision["trace"] if isinstance(r, str))
    left_open = tuple((entry["output"], entry["source"]) for entry in decision.get("undetermined", ()))
    return claim, Cell(decision["treatment"], decision["reduction_pp"], decision["route"], tuple(decision["flags"]), rules,
                       undetermined=left_open)
