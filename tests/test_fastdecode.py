"""The fast path — JSON text (`decode_fast`) or parsed JSON (`convert_fast`) → flat document — accepts
exactly what the thorough path accepts (bar the few forms it leaves to it: escapes, repeated keys, a BOM),
and gives the same document."""

from __future__ import annotations

import copy
import datetime
import json
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yidi import InputError
from yidi.contract import CLAIM, FILING_REQUEST
from yidi.documents import load_json, normalize_document
from yidi.fastdecode import _compiled, convert_fast, decode_fast
from yidi.jsonout import dump_bytes

from .strategies import BOUNDARIES, henan_claims, mutated_claims

VALID = (b'{"id":"C1","insured":{"region":"410100","scheme":"employee"},'
         b'"visit":{"kind":"inpatient","region":"110105","networked":true,"hospital_level":3,'
         b'"admission_date":"2025-03-01","discharge_date":"2025-03-09"},"costs":{"total":25000,"in_scope":20000.50}}')


OBJECT_KEYS = {"insured", "filing", "visit", "costs", "current", "new"}


def comparable(flat):
    return {k: v for k, v in flat.items() if k not in OBJECT_KEYS}


def thorough_dict(engine, doc):
    return comparable(engine.evaluator.flatten(normalize_document(doc)))


def assert_never_looser(fast, thorough_result, shown, must_accept_valid: bool = False) -> None:
    """A fast path's answer against the thorough path's: None where it rejects; the same document where it accepts."""
    try:
        expected = thorough_result()
    except InputError:
        assert fast is None, f"the fast path accepted an invalid document: {shown!r}"
        return
    if must_accept_valid:
        assert fast is not None, f"a valid document missed the fast path: {shown!r}"
    if fast is not None:
        assert comparable(fast) == expected


def thorough(engine, text: bytes):
    return comparable(engine.evaluator.flatten(normalize_document(load_json(text))))


def test_both_kinds_have_a_fast_path():
    assert _compiled(CLAIM) is not None and _compiled(FILING_REQUEST) is not None


def test_a_valid_claim_decodes_to_the_thorough_paths_document(engine):
    flat = decode_fast(VALID)
    assert flat is not None and comparable(flat) == thorough(engine, VALID)
    assert flat["costs.in_scope"] == Decimal("20000.50") and type(flat["costs.total"]) is Decimal
    assert flat["visit.settled_on"] == datetime.date(2025, 3, 9)  # defaulted from the discharge date
    assert flat["filing.basis"] is None and flat["visit.emergency"] is False


@pytest.mark.parametrize("text", [
    VALID.replace(b'"id":"C1",', b'"id":"C1","id":"C2",'),                           # a repeated key
    VALID.replace(b'"scheme":"employee"', b'"scheme":"employee","scheme":"resident"'),
    VALID.replace(b'"id":"C1"', b'"id":"C1:2","kind":"claim","kind":"claim"'),          # repeated, with a colon in a value
    VALID.replace(b'"in_scope":20000.50', b'"in_scope":"20000.50"'),                     # money as a string
    VALID.replace(b'"in_scope":20000.50', b'"in_scope":20000.505'),                      # three decimals
    VALID.replace(b'"in_scope":20000.50', b'"in_scope":-1'),
    VALID.replace(b'"in_scope":20000.50', b'"in_scope":true'),
    VALID.replace(b'"in_scope":20000.50', b'"in_scope":30000'),                          # more than the total
    VALID.replace(b'"discharge_date":"2025-03-09"', b'"discharge_date":"2025-02-28"'),   # before admission
    VALID.replace(b'"admission_date":"2025-03-01"', b'"admission_date":"2025-02-30"'),
    VALID.replace(b'"region":"110105"', b'"region":"11010\\u0035"'),                     # an escape: thorough path
    VALID.replace(b'"hospital_level":3', b'"hospital_level":3.0'),
    VALID.replace(b'"networked":true', b'"networked":1'),
    VALID.replace(b'"id":"C1"', b'"id":"C1","extra":1'),
    VALID.replace(b'"id":"C1"', b'"id":""'),
    VALID.replace(b'"region":"110105"', b'"region":"11010\xd9\xa1"'),                   # an Arabic-Indic digit is not \\d
    VALID[:-1],
    b"\xef\xbb\xbf" + VALID,
    b"[]",
])
def test_documents_it_cannot_vouch_for_take_the_thorough_path(text):
    assert decode_fast(text) is None


def test_the_thorough_path_explains_what_the_fast_path_refused(engine):
    with pytest.raises(InputError) as info:
        engine.evaluate_json(VALID.replace(b'"id":"C1",', b'"id":"C1","id":"C2",'))
    assert "id" in str(info.value.problems[0].message_en)
    with pytest.raises(InputError):
        engine.evaluate_json(VALID.replace(b'"in_scope":20000.50', b'"in_scope":"20000.50"'))
    escaped = VALID.replace(b'"region":"110105"', b'"region":"11010\\u0035"')
    assert engine.evaluate_json(escaped) == engine.evaluate(load_json(escaped))  # valid, just not on the fast path


def test_a_filing_request_decodes_like_the_thorough_path(engine):
    document = {
        "kind": "filing_request", "id": "F2", "insured": {"region": "410100", "scheme": "resident"}, "action": "file",
        "on": "2025-10-20", "new": {"type": "long_term_resident", "basis": "commitment", "region": "320500", "start_date": "2025-10-20"},
        "history": [{"type": "long_term_resident", "basis": "commitment", "start_date": "2023-01-04", "cancelled_on": "2024-02-01"}],
    }
    text = dump_bytes(document)
    flat = decode_fast(text)
    assert flat is not None and comparable(flat) == thorough(engine, text)
    assert engine.evaluate_json(text) == engine.evaluate(document)
    missing_new = dict(document, new=None)
    assert decode_fast(dump_bytes(missing_new)) is None  # `file` needs `new`: the schema's if/then


def encode(document) -> bytes:
    """JSON text of a document, lone surrogates written as escapes (msgspec will not write them)."""
    escapes: list[str] = []

    def swap(value):
        if isinstance(value, dict):
            return {swap(k): swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        if isinstance(value, str) and re.search("[\ud800-\udfff]", value):
            escapes.append(json.dumps(value))
            return f"@@{len(escapes) - 1}@@"
        return value

    text = dump_bytes(swap(document))
    return re.sub(rb'"@@(\d+)@@"', lambda m: escapes[int(m[1])].encode(), text)


@settings(max_examples=600, deadline=None)
@given(mutated_claims(), st.sampled_from(["as-is", "repeat-key", "money-string", "spaces"]))
def test_fast_decoding_never_accepts_what_the_thorough_path_rejects(engine, claim, change):
    text = encode(claim)
    if change == "repeat-key":
        text = text.replace(b'"insured":{', b'"insured":{"scheme":"resident",', 1)
    elif change == "money-string":
        text = text.replace(b'"total":', b'"total":"', 1).replace(b',"in_scope"', b'","in_scope"', 1)
    elif change == "spaces":
        text = text.replace(b":", b" : ").replace(b",", b" ,\n")
    escaped = b"\\" in text  # only lone surrogates are written as escapes here: those documents are invalid anyway
    assert_never_looser(decode_fast(text), lambda: thorough(engine, text), text, must_accept_valid=not escaped)


@settings(max_examples=300, deadline=None)
@given(henan_claims())
def test_valid_claims_take_the_fast_path_and_decide_the_same(engine, claim):
    text = dump_bytes(claim)
    assert decode_fast(text) is not None
    assert engine.evaluate_json(text, "full") == engine.evaluate(claim, "full")


@st.composite
def filing_requests(draw):
    """Filing requests with fields present, absent, null or of the wrong type, more or less at random."""
    day = st.dates(min_value=datetime.date(2023, 1, 1), max_value=datetime.date(2026, 12, 31)).map(datetime.date.isoformat)
    odd = st.sampled_from([None, 3, "x", True, "2025-02-30", [], {}, "9999-12-31", "2100-01-01", "2099-12-31", "1900-01-01",
                           "1899-12-31", "0001-01-01", "x\ud800"])

    def maybe(value_strategy, p_odd=0.08):
        return st.one_of(value_strategy, odd) if draw(st.floats(0, 1)) < p_odd else value_strategy

    def filing(extra: dict) -> dict:
        keys = {"type": maybe(st.sampled_from(["retiree_relocated", "long_term_resident", "stationed_worker", "referral", "emergency", "other_temporary", "long_term_resident", "bogus"])),
                "basis": maybe(st.sampled_from(["materials", "commitment"])), "region": maybe(st.sampled_from(["320500", "110000", "410100", "460000", "41"])),
                "start_date": maybe(day), "end_date": maybe(st.one_of(st.none(), day)), "filed_on": maybe(st.one_of(st.none(), day)),
                "supplemented_on": maybe(st.one_of(st.none(), day)), **extra}
        return {k: draw(v) for k, v in keys.items() if draw(st.integers(0, 9)) > 0}

    document = {"kind": "filing_request", "id": draw(st.sampled_from(["F1", "F:2", "F3", "F4", ""])),
                "insured": {"region": "410100", "scheme": draw(st.sampled_from(["resident", "employee"]))},
                "action": draw(maybe(st.sampled_from(["file", "change", "cancel"]))), "on": draw(maybe(day))}
    if draw(st.booleans()):
        document["current"] = None if draw(st.integers(0, 4)) == 0 else filing({"costs_in_filed_place": maybe(st.booleans())})
    if draw(st.booleans()):
        document["new"] = None if draw(st.integers(0, 4)) == 0 else filing({})
    if draw(st.booleans()):
        document["history"] = [
            {k: v for k, v in {"type": draw(st.sampled_from(["long_term_resident", "referral"])), "basis": draw(st.sampled_from(["materials", "commitment"])),
                               "start_date": draw(maybe(day)), "cancelled_on": draw(st.one_of(st.none(), day)),
                               "supplemented_on": draw(st.one_of(st.none(), day))}.items() if draw(st.integers(0, 5)) > 0}
            for _ in range(draw(st.integers(0, 3)))]
    return document


@settings(max_examples=600, deadline=None)
@given(filing_requests())
def test_fast_decoding_of_filing_requests_never_accepts_what_the_thorough_path_rejects(engine, document):
    text = encode(document)
    assert_never_looser(decode_fast(text), lambda: thorough(engine, text), text, must_accept_valid=True)


@pytest.mark.parametrize("name", ["class", "with-dash", "_private"])
def test_a_schema_whose_keys_cannot_be_fields_gets_no_fast_path(name):
    from yidi.contract import Field
    from yidi.fastdecode import _Generator, _Unsupported

    obj = Field("", (), "object", closed=True, fields=(Field(name, (name,), "string"),))
    with pytest.raises(_Unsupported):
        _Generator().struct(obj)


@pytest.mark.parametrize("amount, accepted", [
    (b"20000.50", True), (b"20000.500", True), (b"1.5E1", True), (b"20000.505", False), (b"1E-3", False),
    (b"1E+40", None), (b"0.00000000000000000000000000000001", False),
])
def test_money_places_are_judged_as_the_thorough_path_does(engine, amount, accepted):
    text = VALID.replace(b'"total":25000', b'"total":' + amount).replace(b'"in_scope":20000.50', b'"in_scope":0')
    fast = decode_fast(text)
    if accepted is None:  # beyond what quantize can hold: the thorough path decides
        assert fast is None
    else:
        assert (fast is not None) == accepted
    assert_never_looser(fast, lambda: thorough(engine, text), text)


@pytest.mark.parametrize("total, accepted", [
    (b"99999999.99", True), (b"99999999.990", True), (b"9999999999E-2", True), (b"100000000", False), (b"99999999.991", False),
    (b"1e400", False), (b"1e1000000", False), (b"1" + b"0" * 40, False), (b"-0.0", True), (b"-0", True),
])
def test_money_ranges_are_judged_as_the_thorough_path_does(engine, total, accepted):
    text = VALID.replace(b'"total":25000', b'"total":' + total).replace(b'"in_scope":20000.50', b'"in_scope":0')
    fast = decode_fast(text)
    assert (fast is not None) == accepted
    assert_never_looser(fast, lambda: thorough(engine, text), text, must_accept_valid=True)
    if accepted:
        assert not fast["costs.total"].is_signed()


@pytest.mark.parametrize("day, accepted", [
    (b"2099-12-31", True), (b"1900-01-01", True), (b"2100-01-01", False), (b"1899-12-31", False), (b"9999-12-31", False),
    (b"0001-01-01", False), (b"2024-02-29", True), (b"2025-02-29", False),
])
def test_date_ranges_are_judged_as_the_thorough_path_does(engine, day, accepted):
    text = VALID.replace(b'"admission_date":"2025-03-01","discharge_date":"2025-03-09"',
                         b'"admission_date":"' + day + b'","discharge_date":"' + day + b'"')
    fast = decode_fast(text)
    assert (fast is not None) == accepted
    assert_never_looser(fast, lambda: thorough(engine, text), text, must_accept_valid=True)


def test_a_value_nested_past_the_interpreters_limit_in_a_number_field_takes_the_thorough_path(engine):
    """msgspec raises RecursionError (not a decode error) for it; that used to end a whole batch."""
    text = VALID.replace(b'"total":25000', b'"total":' + b"[" * 1000 + b"]" * 1000)
    assert decode_fast(text) is None
    with pytest.raises(InputError):
        engine.evaluate_json(text)


def test_text_holding_a_lone_surrogate_is_refused_not_crashed_on(engine):
    """From Python a str may hold one (not only its JSON escape); it cannot be encoded, so the fast path declines."""
    text = VALID.decode().replace('"C1"', '"C\ud800"')
    assert decode_fast(text) is None
    with pytest.raises(InputError) as info:
        engine.evaluate_json(text)
    assert [p.path for p in info.value.problems] == ["id"]


# ── parsed JSON (convert_fast) ─────────────────────────────────────────────────


@settings(max_examples=600, deadline=None)
@given(mutated_claims())
def test_fast_path_never_accepts_what_the_thorough_path_rejects(engine, claim):
    assert_never_looser(convert_fast(claim), lambda: thorough_dict(engine, claim), claim, must_accept_valid=True)


@pytest.mark.parametrize("document", [
    {"kind": "filing_request", "id": "F1", "insured": {"region": "410100", "scheme": "resident"}, "action": "file", "on": "2025-01-01"},
    {"kind": "filing_request", "id": "F1", "insured": {"region": "410100", "scheme": "resident"}, "action": "cancel", "on": "2025-01-01",
     "history": [{"type": "referral", "start_date": "2025-02-01", "cancelled_on": "2025-01-01"}]},
    {"kind": "claim", "id": "C1", "insured": {"region": "410100", "scheme": "employee"},
     "visit": {"kind": "inpatient", "region": "110000", "networked": True, "admission_date": "2025-01-02",
               "discharge_date": "2025-01-03", "settled_on": None}, "costs": {"total": 1, "in_scope": 1}},
    {"kind": "claim", "id": "C1", "insured": {"region": "410100", "scheme": "employee"},
     "visit": {"kind": "outpatient", "region": "110000", "networked": True, "admission_date": "2025-01-02",
               "discharge_date": "2025-01-03"}, "costs": {"total": 1, "in_scope": 2}},
])
def test_fast_path_refuses_documents_with_problems(document):
    assert convert_fast(document) is None
    with pytest.raises(InputError):
        normalize_document(document)


def test_fast_and_thorough_agree_on_a_filing_request(engine):
    document = {
        "kind": "filing_request", "id": "F2", "insured": {"region": "410100", "scheme": "resident"}, "action": "file",
        "on": "2025-10-20", "new": {"type": "long_term_resident", "basis": "commitment", "region": "320500", "start_date": "2025-10-20"},
        "history": [{"type": "long_term_resident", "basis": "commitment", "start_date": "2023-01-04", "cancelled_on": "2024-02-01"}],
    }
    fast = convert_fast(document)
    assert fast is not None and comparable(fast) == thorough_dict(engine, document)


@pytest.mark.parametrize("field, value", [(f, v) for f in ("costs.total", "costs.in_scope", "visit.admission_date", "visit.settled_on", "id")
                                          for v in BOUNDARIES.values()])
def test_fast_path_judges_boundaries_as_the_thorough_path_does(engine, field, value):
    claim = copy.deepcopy(VALID_CLAIM)
    section, _, key = field.rpartition(".")
    (claim[section] if section else claim)[key] = value
    assert_never_looser(convert_fast(claim), lambda: thorough_dict(engine, claim), claim)


def test_negative_zero_money_is_zero_on_the_fast_path():
    claim = copy.deepcopy(VALID_CLAIM)
    for total, in_scope in ((Decimal("-0.00"), Decimal("-0")), (-0.0, -0.0), (-0.0, 0)):
        claim["costs"] = {"total": total, "in_scope": in_scope}
        flat = convert_fast(claim)
        assert flat is not None and not flat["costs.total"].is_signed() and not flat["costs.in_scope"].is_signed()


VALID_CLAIM = {"kind": "claim", "id": "C1", "insured": {"region": "410100", "scheme": "employee"},
               "visit": {"kind": "inpatient", "region": "110000", "networked": True, "admission_date": "2025-01-02",
                         "discharge_date": "2025-01-03"}, "costs": {"total": Decimal("1000"), "in_scope": Decimal("10")}}


@settings(max_examples=300, deadline=None)
@given(henan_claims())
def test_parsed_json_with_float_money_takes_the_fast_path_and_decides_the_same(engine, claim):
    """`evaluate(json.loads(body))`, a service's natural call: floats of at most two decimals are exact money."""
    text = dump_bytes(claim)
    parsed = json.loads(text)
    assert convert_fast(parsed) is not None
    assert engine.evaluate(parsed, "full") == engine.evaluate_json(text, "full")


@pytest.mark.parametrize("amount, accepted", [
    (0.1, True), (20000.5, True), (99999999.99, True), (1e-07, False), (0.125, False), (1e16, False),
    (float("nan"), False), (float("inf"), False), (100000000.0, False), (3, True), (True, False),
])
def test_float_money_is_judged_as_the_thorough_path_does(engine, amount, accepted):
    claim = copy.deepcopy(VALID_CLAIM)
    claim["costs"] = {"total": amount, "in_scope": 0}
    fast = convert_fast(claim)
    assert (fast is not None) == accepted
    assert_never_looser(fast, lambda: thorough_dict(engine, claim), claim, must_accept_valid=True)


# ── relations between fields (x-yidi-relations): one declaration, explained and checked fast ──

near_days = st.one_of(st.none(), st.dates(min_value=datetime.date(2025, 1, 1), max_value=datetime.date(2025, 1, 20)).map(datetime.date.isoformat))


@st.composite
def claims_testing_relations(draw):
    """Valid claims whose related fields (dates, amounts, payment source and scheme, basis) are then left to chance."""
    claim = copy.deepcopy(draw(henan_claims()))
    visit, insured = claim["visit"], claim["insured"]
    visit["kind"] = draw(st.sampled_from(["inpatient", "outpatient", "chronic_outpatient", "pharmacy"]))
    visit["chronic_disease"] = None
    for key in ("admission_date", "discharge_date"):
        visit[key] = draw(near_days) or visit[key]
    for target, key in ((visit, "settled_on"), (insured, "birth_date")):
        day = draw(near_days)
        if day is None:
            target.pop(key, None)
        else:
            target[key] = day
    amounts = st.decimals(min_value=0, max_value=10, places=0)
    claim["costs"] = {"total": draw(amounts), "in_scope": draw(amounts)}
    payment = draw(st.sampled_from([None, "pooling_fund", "personal_account"]))
    if payment is not None:
        visit["payment_source"] = payment
    insured["scheme"] = draw(st.sampled_from(["employee", "resident"]))
    if draw(st.booleans()):
        claim["filing"] = {"type": "referral", "region": "110105", "start_date": draw(near_days) or "2025-01-05",
                           "end_date": draw(near_days), "filed_on": draw(near_days), "supplemented_on": draw(near_days)}
        basis = draw(st.sampled_from([None, "materials", "commitment"]))
        if basis is not None:
            claim["filing"]["basis"] = basis
    return claim


@settings(max_examples=500, deadline=None)
@given(claims_testing_relations())
def test_the_declared_relations_judge_claims_alike_on_both_paths(engine, claim):
    """The fast path's yes/no and the thorough path's explanation come from the same declarations: they agree both ways."""
    assert_never_looser(convert_fast(claim), lambda: thorough_dict(engine, claim), claim, must_accept_valid=True)
    text = dump_bytes(claim)
    assert_never_looser(decode_fast(text), lambda: thorough(engine, text), text, must_accept_valid=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(near_days, near_days, near_days, st.sampled_from([None, "materials", "commitment"])), max_size=3),
       st.tuples(near_days, near_days, near_days, near_days, st.sampled_from([None, "materials", "commitment"])))
def test_the_declared_relations_judge_filing_requests_alike_on_both_paths(engine, history, new):
    start, end, filed, supplemented, basis = new
    request = {"kind": "filing_request", "id": "F1", "insured": {"region": "410100", "scheme": "resident"}, "action": "file",
               "on": "2025-01-10", "new": {"type": "referral", "region": "110105", "start_date": start or "2025-01-05",
                                           "end_date": end, "filed_on": filed, "supplemented_on": supplemented}}
    if basis is not None:
        request["new"]["basis"] = basis
    request["history"] = [{"type": "referral", "start_date": s or "2025-01-05", "cancelled_on": c, "supplemented_on": u,
                           **({"basis": b} if b else {})} for s, c, u, b in history]
    assert_never_looser(convert_fast(request), lambda: thorough_dict(engine, request), request, must_accept_valid=True)
