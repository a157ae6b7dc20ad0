"""The Python API services embed: Engine.load / evaluate / evaluate_many / regions / parameters, and its errors."""

from __future__ import annotations

import copy
import datetime
import json
import threading
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import yidi
from yidi import DiagnosticError, Engine, EvaluationError, InputError
from yidi.adapters import nhsa
from yidi.documents import load_json

from .conftest import EXAMPLES, ROOT

REFERRAL = load_json((EXAMPLES / "henan-referral.claim.json").read_text(encoding="utf-8"))
CANCEL = load_json((EXAMPLES / "henan-cancel-locked.filing.json").read_text(encoding="utf-8"))


def test_the_package_is_typed():
    assert (ROOT / "engine" / "yidi" / "py.typed").is_file()
    assert set(yidi.__all__) >= {"Engine", "InputError", "EvaluationError", "DiagnosticError", "Diagnostic", "InputProblem"}


def test_errors_carry_json_paths_and_file_positions(policy_copy):
    with pytest.raises(InputError) as bad:
        Engine.load(policy_copy).evaluate({**REFERRAL, "insured": {"region": "4101", "scheme": "employee"}})
    assert [p.path for p in bad.value.problems] == ["insured.region"]
    (policy_copy / "henan" / "policy.yaml").write_text("id: henan\nregion: 410000\nnonsense: [\n", encoding="utf-8")
    with pytest.raises(DiagnosticError) as broken:
        Engine.load(policy_copy)
    first = broken.value.diagnostics[0]
    assert first.file and first.file.endswith("henan/policy.yaml") and first.line


def test_regions_lists_every_policy_with_its_documents(engine):
    regions = engine.regions()
    assert regions[0] == {"id": "national", "region": "000000", "name": "国家基线", "extends": None,
                          "documents": ["医保发〔2022〕22号", "社会保险法"]}
    henan = next(r for r in regions if r["id"] == "henan")
    assert henan["extends"] == "national" and henan["documents"][0] == "豫医保办〔2025〕2号"
    assert [r["region"] for r in regions] == sorted(r["region"] for r in regions)


def test_parameters_in_force_on_a_date_with_their_sources(engine):
    answer = engine.parameters("410100", on=datetime.date(2025, 6, 1))
    assert answer["policy"]["id"] == "henan" and answer["policy"]["how"] in ("city", "province")
    assert answer["on"] == datetime.date(2025, 6, 1) and answer["policy"]["revision"] == engine.revision
    lock = answer["parameters"]["change_lock_months.commitment_unsupplemented"]
    assert lock["value"] == 6 and lock["source"] == "豫医保办〔2025〕2号 一（二）"
    assert lock["from"] == datetime.date(2025, 1, 1) and lock["until"] is None and lock["file"].endswith("henan/policy.yaml")
    # left to the pooling regions on purpose (附件1 温馨提示二: 按参保地有关规定执行), never guessed
    assert answer["unset"] == ["reduction.outside_filed_place"]
    before = engine.parameters("410100", on=datetime.date(2024, 6, 1))  # before Henan's document took effect
    assert "change_lock_months.commitment_unsupplemented" in before["unset"]


def test_parameters_refuses_a_region_that_is_not_a_code(engine):
    for region in ("4101", "041000", "41010a", 410100):
        with pytest.raises(ValueError):
            engine.parameters(region)  # type: ignore[arg-type]


def test_evaluate_many_answers_in_order_and_never_stops(engine):
    answers = list(engine.evaluate_many([REFERRAL, {"id": "x"}, CANCEL]))
    assert answers[0]["claim_id"] == "EX-HN-REFERRAL"
    assert answers[1]["index"] == 1 and answers[1]["error"] == "invalid-input" and answers[1]["problems"]
    assert answers[2]["request_id"] == "EX-HN-CANCEL"


def test_one_engine_serves_many_threads(engine):
    expected = json.dumps(engine.evaluate(REFERRAL), default=str, sort_keys=True)
    seen: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(30):
            out = json.dumps(engine.evaluate(copy.deepcopy(REFERRAL)), default=str, sort_keys=True)
            with lock:
                seen.append(out)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 240 and set(seen) == {expected}


# ---- property: whatever a caller passes, the answer is a decision or one of the two documented errors ----

_KEYS = ["kind", "id", "insured", "region", "scheme", "birth_date", "filing", "type", "basis", "start_date", "end_date",
         "filed_on", "supplemented_on", "visit", "kind", "networked", "hospital_level", "admission_date", "discharge_date",
         "emergency", "referral", "trauma", "chronic_disease", "settled_on", "costs", "total", "in_scope", "action", "on",
         "current", "new", "history", "cancelled_on", "costs_in_filed_place", "x"]
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["410100", "110000", "000000", "2025-03-05", "2025-02-30", "claim", "filing_request", "employee",
                     "resident", "inpatient", "outpatient", "pharmacy", "referral", "commitment", "third_party", "cancel"]),
)
_JSONISH = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=6)), max_leaves=25)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


@st.composite
def _mutated(draw):
    """A valid example with one value (at any depth) replaced by something random."""
    document = copy.deepcopy(draw(st.sampled_from([REFERRAL, CANCEL])))
    path = draw(st.sampled_from(list(_paths(document))[1:]))
    node = document
    for part in path[:-1]:
        node = node[part]
    if draw(st.booleans()) and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = draw(_JSONISH)
    return document


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_JSONISH, _mutated()))
def test_any_input_gives_a_decision_or_a_documented_error(engine, document):
    try:
        answer = engine.evaluate(document)
    except InputError as exc:
        assert exc.problems and all(isinstance(p.path, str) for p in exc.problems)
        return
    except EvaluationError as exc:
        assert exc.code and exc.message_zh
        return
    assert isinstance(answer, dict) and answer["trace"] and answer["policy"]["revision"] == engine.revision


@settings(max_examples=200, deadline=None)
@given(st.one_of(_JSONISH, st.dictionaries(st.sampled_from([*nhsa.PLATFORM_FIELDS, *nhsa.EXTRA_FIELDS, "yidi_typo"]),
                                           _SCALARS, max_size=12)))
def test_any_platform_record_translates_or_names_its_fields(document):
    try:
        claim = nhsa.translate(document)
    except InputError as exc:
        known = {"", *nhsa.PLATFORM_FIELDS, *nhsa.EXTRA_FIELDS} | {k for k in (document if isinstance(document, dict) else {})}
        assert all(p.path.split(".")[0].split("[")[0] in known for p in exc.problems), exc.problems
        return
    assert claim["kind"] == "claim" and isinstance(claim["costs"]["total"], int | Decimal | float)


def test_an_undecidable_document_gets_the_same_error_body_on_every_interface(tmp_path):
    """yidi.errors.error_body is the one JSON form: Engine.evaluate_many, `yidi eval --format json` and batch agree."""
    import pathlib
    import shutil
    import subprocess
    import sys

    from yidi.errors import error_body

    from .conftest import CONFLICTING, POLICIES, plant_rule_conflict

    tree = plant_rule_conflict(pathlib.Path(shutil.copytree(POLICIES, tmp_path / "policies")))
    engine = Engine.load(tree)
    with pytest.raises(EvaluationError) as info:
        engine.evaluate(CONFLICTING)
    body = error_body(info.value)
    assert list(body) == ["error", "message", "message_en", "rules", "where"] and body["error"] == "rule-conflict"
    assert next(engine.evaluate_many([CONFLICTING])) == {"index": 0, **body}
    claim = tmp_path / "claim.json"
    claim.write_text(json.dumps(CONFLICTING), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "yidi", "eval", str(claim), "--policies", str(tree), "--format", "json"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 3 and json.loads(done.stdout) == body
    lines = tmp_path / "claims.jsonl"
    lines.write_text(json.dumps(CONFLICTING) + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "yidi", "batch", str(lines), "-o", str(tmp_path / "out.jsonl"), "--errors",
                    str(tmp_path / "errors.jsonl"), "--policies", str(tree)], capture_output=True, text=True, cwd=tmp_path)
    assert json.loads((tmp_path / "errors.jsonl").read_text(encoding="utf-8")) == {"line": 1, **body}
