"""JSON text → flat document: accepts only what the thorough path accepts, and gives the same document."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yidi import InputError
from yidi.documents import _CROSS_CHECKS, CLAIM, FILING_REQUEST, _Reader, load_json, normalize_document, relations_hold
from yidi.fastdecode import _decoder, decode_fast
from yidi.jsonout import dump_bytes

from .test_fastcheck import assert_never_looser, comparable, mutated_claims
from .test_properties import henan_claims

VALID = (b'{"id":"C1","insured":{"region":"410100","scheme":"employee"},'
         b'"visit":{"kind":"inpatient","region":"110105","networked":true,"hospital_level":3,'
         b'"admission_date":"2025-03-01","discharge_date":"2025-03-09"},"costs":{"total":25000,"in_scope":20000.50}}')


def thorough(engine, text: bytes):
    return comparable(engine._evaluator.flatten(normalize_document(load_json(text))))


def test_both_kinds_have_a_fast_decoder():
    assert _decoder(CLAIM) is not None and _decoder(FILING_REQUEST) is not None


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
    assert_never_looser(decode_fast(text), lambda: thorough(engine, text), text)


@settings(max_examples=300, deadline=None)
@given(henan_claims())
def test_valid_claims_take_the_fast_path_and_decide_the_same(engine, claim):
    text = dump_bytes(claim)
    assert decode_fast(text) is not None
    assert engine.evaluate_json(text, "full") == engine.evaluate(claim, "full")


dates = st.one_of(st.none(), st.dates(min_value=datetime.date(2024, 1, 1), max_value=datetime.date(2024, 3, 1)))


@st.composite
def flat_claims(draw):
    """Flat claims with every relation the cross-field checks look at left to chance."""
    has_filing = draw(st.booleans())
    amounts = st.decimals(min_value=0, max_value=10, places=0)
    flat = {
        "visit.kind": draw(st.sampled_from(["inpatient", "outpatient", "chronic_outpatient", "pharmacy"])),
        "visit.admission_date": draw(dates), "visit.discharge_date": draw(dates), "visit.settled_on": draw(dates),
        "insured.birth_date": draw(dates), "costs.total": draw(st.one_of(st.none(), amounts)),
        "costs.in_scope": draw(st.one_of(st.none(), amounts)),
        "visit.payment_source": draw(st.sampled_from([None, "pooling_fund", "personal_account"])),
        "insured.scheme": draw(st.sampled_from([None, "employee", "resident"])),
    }
    for field in ("start_date", "end_date", "filed_on", "supplemented_on"):
        flat[f"filing.{field}"] = draw(dates) if has_filing else None
    flat["filing.basis"] = draw(st.sampled_from(["materials", "commitment"])) if has_filing else None
    return flat


def _nest(flat: dict) -> dict:
    """The nested document the thorough checks read (dates as text, as they arrive)."""
    doc: dict = {}
    for path, value in flat.items():
        parent, _, key = path.partition(".")
        if key:
            doc.setdefault(parent, {})[key] = value.isoformat() if isinstance(value, datetime.date) else value
    return doc


@settings(max_examples=500, deadline=None)
@given(flat_claims())
def test_relations_hold_answers_as_the_cross_field_checks_do(flat):
    found = list(_CROSS_CHECKS[CLAIM](_Reader(_nest(flat), set(), {})))
    assert relations_hold(CLAIM, flat) == (not found)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(dates, dates, dates, st.sampled_from(["materials", "commitment"])), max_size=3), flat_claims(), flat_claims())
def test_relations_hold_for_filing_requests_as_the_checks_do(history, current, new):
    flat = {"history": [{"start_date": s, "cancelled_on": c, "supplemented_on": u, "basis": b} for s, c, u, b in history]}
    for prefix, source in (("current", current), ("new", new)):
        for field in ("start_date", "end_date", "filed_on", "supplemented_on", "basis"):
            flat[f"{prefix}.{field}"] = source[f"filing.{field}"]
    history_text = [{k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in entry.items()} for entry in flat["history"]]
    doc = _nest({k: v for k, v in flat.items() if k != "history"}) | {"history": history_text}
    found = list(_CROSS_CHECKS[FILING_REQUEST](_Reader(doc, set(), {})))
    assert relations_hold(FILING_REQUEST, flat) == (not found)


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
def test_a_schema_whose_keys_cannot_be_fields_gets_no_fast_decoder(name):
    from yidi.fastdecode import _Generator, _Unsupported

    schema = {"type": "object", "additionalProperties": False, "properties": {name: {"type": "string"}}}
    with pytest.raises(_Unsupported):
        _Generator(schema).struct(schema)


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
