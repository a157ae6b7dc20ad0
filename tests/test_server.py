"""`yidi serve` end to end: a real server process on 127.0.0.1, a real HTTP client."""

from __future__ import annotations

import json
import pathlib
import signal

import jsonschema
import pytest

from yidi.audit import input_hash, read_log
from yidi.documents import load_json

from .conftest import CONFLICTING, EXAMPLES, plant_rule_conflict
from .server_support import TOKEN, Server, copy_policies

REFERRAL = json.loads((EXAMPLES / "henan-referral.claim.json").read_text(encoding="utf-8"))
CANCEL = json.loads((EXAMPLES / "henan-cancel-locked.filing.json").read_text(encoding="utf-8"))
# Beijing has no policy of its own: the national policy leaves the reduction to the insured place (a partial decision).
PARTIAL = {"id": "U-1", "insured": {"region": "110000", "scheme": "employee"},
               "filing": {"type": "other_temporary", "region": "310000", "start_date": "2025-03-01"},
               "visit": {"kind": "inpatient", "region": "310100", "networked": True, "hospital_level": 3,
                         "admission_date": "2025-03-05", "discharge_date": "2025-03-12"},
               "costs": {"total": 1000, "in_scope": 800}}
NHSA = {"mdtrt_id": "M-1", "insuplc_admdvs": "410100", "insutype": "310", "mdtrtarea_admvs": "110105", "med_type": "23",
        "begntime": "2025-03-05 08:30:00", "endtime": "2025-03-12 10:00:00", "medfee_sumamt": "32000.00",
        "inscp_scp_amt": 26000.00, "yidi_networked": True, "yidi_hospital_level": 3,
        "yidi_filing": {"type": "referral", "region": "110000", "start_date": "2025-03-01"}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("serve")
    running = Server(work, plant_rule_conflict(copy_policies(work / "policies")), token=TOKEN, args=("--max-body", "65536")).start()
    yield running
    assert running.stop() in (0, -signal.SIGTERM), running.stderr


@pytest.fixture(scope="module")
def http(server):
    with server.client() as client:
        yield client


def test_evaluate_decides_and_names_the_revision(http):
    response = http.post("/v1/evaluate", json=REFERRAL)
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["treatment"] == "referral" and decision["reduction_pp"] == 10
    assert len(decision["policy"]["revision"]) == 16
    assert decision["trace"][0]["rule"] == "yidi.policy-selection"
    assert response.headers["x-request-id"]
    schema = json.loads((EXAMPLES.parent / "schemas" / "decision.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(decision)  # the answer is the contract's decision


def test_evaluate_answers_a_filing_request_with_ids_only(http):
    response = http.post("/v1/evaluate", params={"trace": "ids"}, json=CANCEL)
    assert response.status_code == 200
    assert response.json()["allowed"] is False and all(isinstance(e, str) for e in response.json()["trace"])


def test_invalid_document_is_422_with_every_offending_path(http):
    bad = {**REFERRAL, "insured": {"region": "41", "scheme": "nobody"},
           "visit": {**REFERRAL["visit"], "discharge_date": "2025-02-30"}, "costs": {"total": -1, "in_scope": 5}}
    response = http.post("/v1/evaluate", json=bad)
    assert response.status_code == 422
    paths = {p["path"] for p in response.json()["problems"]}
    assert {"insured.region", "insured.scheme", "visit.discharge_date", "costs.total"} <= paths


def test_malformed_json_is_400_with_a_clear_message(http):
    response = http.post("/v1/evaluate", content=b'{"id": "x",', headers={"content-type": "application/json"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "malformed-json" and "JSON" in body["problems"][0]["message_en"]
    assert http.post("/v1/evaluate", content=b"", headers={"content-type": "application/json"}).status_code == 400


def test_unsupported_content_type_is_415(http):
    assert http.post("/v1/evaluate", content=b"id=1", headers={"content-type": "text/plain"}).status_code == 415


def test_oversize_body_is_413_declared_or_streamed(http):
    big = b'{"id": "' + b"x" * 70_000 + b'"}'
    response = http.post("/v1/evaluate", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["limit"] == 65536

    def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(20):
            yield b" " * 8192

    streamed = http.post("/v1/evaluate", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_what_the_policies_leave_open_is_a_partial_decision_not_an_error(http):
    response = http.post("/v1/evaluate", json=PARTIAL)
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["treatment"] == "other_temporary" and decision["reduction_pp"] is None
    first = decision["undetermined"][0]
    assert first["output"] == "reduction_pp" and "110000" in first["reason"] and first["source"]


def test_a_policy_that_cannot_decide_is_409_naming_the_rules(http):
    response = http.post("/v1/evaluate", json=CONFLICTING)
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "rule-conflict" and "henan.planted-conflict" in body["rules"]
    assert body["where"] and body["revision"]


def test_batch_json_answers_in_order_and_keeps_going_past_bad_items(http):
    items = [REFERRAL, {"id": "broken"}, CANCEL, CONFLICTING, "not an object"]
    response = http.post("/v1/evaluate/batch", json=items)
    assert response.status_code == 200
    answers = response.json()
    assert len(answers) == 5
    assert answers[0]["claim_id"] == "EX-HN-REFERRAL"
    assert answers[1]["index"] == 1 and answers[1]["status"] == 422 and answers[1]["problems"]
    assert answers[2]["request_id"] == "EX-HN-CANCEL"
    assert answers[3]["status"] == 409 and answers[3]["error"] == "rule-conflict"
    assert answers[4]["status"] == 422
    assert len({a["policy"]["revision"] for a in (answers[0], answers[2])}) == 1


def test_batch_ndjson_streams_lines_in_order(http):
    lines = [json.dumps(REFERRAL), "", "{not json", json.dumps(CANCEL)]
    response = http.post("/v1/evaluate/batch", content="\n".join(lines).encode(), headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    answers = [json.loads(line) for line in response.text.splitlines()]
    assert [a.get("claim_id") or a.get("request_id") or a["status"] for a in answers] == ["EX-HN-REFERRAL", 400, "EX-HN-CANCEL"]


def test_batch_must_be_an_array(http):
    response = http.post("/v1/evaluate/batch", json=REFERRAL)
    assert response.status_code == 422


def test_nhsa_content_type_and_accept_header(http):
    headers = {"content-type": "application/vnd.nhsa+json", "accept": "application/vnd.nhsa+json"}
    response = http.post("/v1/evaluate", content=json.dumps(NHSA).encode(), headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.nhsa+json")
    sheet = response.json()["setlinfo"]
    assert sheet == {"mdtrt_id": "M-1", "inscp_scp_amt": 26000, "act_pay_dedc": 900, "hifp_pay": 18825,
                     "pool_prop_selfpay": 0.75, "psn_part_amt": 13175}
    bad = http.post("/v1/evaluate", content=json.dumps({**NHSA, "med_type": "99", "begntime": "x"}).encode(), headers=headers)
    assert bad.status_code == 422
    assert {p["path"] for p in bad.json()["problems"]} == {"med_type", "begntime"}
    batch = http.post("/v1/evaluate/batch", content=json.dumps([NHSA, {**NHSA, "insutype": "320"}]).encode(), headers=headers)
    assert batch.status_code == 200
    first, second = batch.json()
    assert first["setlinfo"]["mdtrt_id"] == "M-1" and second["status"] == 422 and second["problems"][0]["path"] == "insutype"


def test_regions_and_parameters(http):
    body = http.get("/v1/regions").json()
    ids = [r["id"] for r in body["regions"]]
    assert ids[0] == "national" and "henan" in ids and body["revision"]
    henan = next(r for r in body["regions"] if r["id"] == "henan")
    assert henan == {"id": "henan", "region": "410000", "name": "河南省", "extends": "national",
                     "documents": ["豫医保办〔2025〕2号", "医保发〔2022〕22号", "社会保险法"]}
    params = http.get("/v1/regions/410100/parameters", params={"on": "2025-06-01"}).json()
    assert params["policy"]["id"] == "henan"
    lock = params["parameters"]["change_lock_months.commitment_unsupplemented"]
    assert lock["value"] == 6 and lock["source"].startswith("豫医保办〔2025〕2号")
    national = http.get("/v1/regions/110000/parameters", params={"on": "2025-06-01"}).json()
    assert "reduction.referral" in national["unset"]
    assert http.get("/v1/regions/41/parameters").status_code == 422
    assert http.get("/v1/regions/410100/parameters", params={"on": "2025-02-30"}).status_code == 422


def test_health_readiness_metrics_openapi(http):
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz").json()
    assert ready["status"] == "ready" and ready["revision"]
    http.post("/v1/evaluate", json=REFERRAL)
    text = http.get("/metrics").text
    assert 'yidi_http_requests_total{method="POST",route="/v1/evaluate",status="200"}' in text
    assert 'yidi_http_request_duration_seconds_bucket{route="/v1/evaluate",le="+Inf"}' in text
    assert 'yidi_decisions_total{kind="claim",outcome="direct"}' in text
    spec = http.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and "/v1/evaluate" in spec["paths"]
    claim = json.loads(pathlib.Path(EXAMPLES.parent / "schemas" / "claim.schema.json").read_text(encoding="utf-8"))
    assert spec["components"]["schemas"]["Claim"]["properties"]["visit"] == {"$ref": "#/components/schemas/Claim.visit"}
    assert spec["components"]["schemas"]["Claim.visit"]["required"] == claim["$defs"]["visit"]["required"]


def test_request_id_is_echoed_and_logged(http, server):
    response = http.post("/v1/evaluate", json=REFERRAL, headers={"x-request-id": "caller-42"})
    assert response.headers["x-request-id"] == "caller-42"
    records = {entry["request_id"]: entry for _, entry in read_log(server.audit)}
    entry = records["caller-42"]
    assert entry["input_sha256"] == input_hash(load_json(json.dumps(REFERRAL)))
    assert entry["revision"] == response.json()["policy"]["revision"] and entry["decision"]["claim_id"] == "EX-HN-REFERRAL"


def test_admin_endpoints_refuse_without_or_with_a_wrong_token(http):
    assert http.post("/v1/admin/reload").status_code == 401
    wrong = http.post("/v1/admin/reload", headers={"authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert http.post("/v1/admin/reload", headers={"authorization": f"Basic {TOKEN}"}).status_code == 401


def test_validate_checks_the_servers_tree_and_never_a_path_from_the_request(http, server):
    response = http.post("/v1/validate", json={"path": "/etc/passwd", "policies": "/etc"})
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True and body["revision"] == body["serving"]
    assert "/etc" not in response.text and "root:" not in response.text


def test_unknown_routes_and_methods_are_json_errors(http):
    assert http.get("/nope").status_code == 404
    assert http.get("/v1/evaluate").status_code == 405


def test_admin_disabled_without_a_configured_token(tmp_path):
    running = Server(tmp_path, copy_policies(tmp_path / "policies"), args=("--check", "load")).start()
    try:
        with running.client() as client:
            response = client.post("/v1/admin/reload", headers={"authorization": f"Bearer {TOKEN}"})
            assert response.status_code == 403 and response.json()["error"] == "admin-disabled"
    finally:
        running.stop()


def test_refuses_to_start_on_an_invalid_tree(tmp_path):
    policies = copy_policies(tmp_path / "policies")
    (policies / "henan" / "policy.yaml").write_text("id: henan\nregion: [", encoding="utf-8")
    running = Server(tmp_path, policies)
    with pytest.raises(AssertionError, match="did not start"):
        running.start(timeout=30)
    assert running.process is not None and running.process.wait(10) == 1


def test_server_binds_loopback_only_by_default(server):
    """The listening socket itself is bound to 127.0.0.1 (read from the kernel's table, not from the URL we chose)."""
    assert server.url.startswith("http://127.0.0.1:")
    port = int(server.url.rsplit(":", 1)[1].strip("/"))
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as handle:
            for line in list(handle)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    listening.append(address)
    assert listening == ["0100007F"], listening  # 127.0.0.1, little-endian; never 0.0.0.0 or ::
