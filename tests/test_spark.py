"""yidi.spark in local mode (`local[2]`): the same decisions as `yidi batch`, the same report as `yidi diff`.

One SparkSession for the module. Inputs are split into several partitions
(small `maxPartitionBytes`), so both executor processes decide and the
driver merges partitions. Skipped, saying why, only when no Java runtime
can be found (.ci/run installs Debian's default-jre-headless).
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import shutil

import pytest

from yidi import Engine
from yidi.batch import run as run_batch
from yidi.synth import generate

from .conftest import POLICIES
from .officer_edits import officer_change

if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
    pytest.skip("no Java runtime (java not on PATH, JAVA_HOME unset): Spark needs Java 17+; "
                ".ci/run installs Debian's default-jre-headless", allow_module_level=True)

from yidi.spark import RevisionMismatch, decide, impact, load_policies  # noqa: E402
from yidi.spark.cli import main as spark_main  # noqa: E402
from yidi.spark.shipping import MISMATCH  # noqa: E402

N = 10_000

BAD_LINES = [
    b"{not json",
    b'{"kind": "claim", "id": "BAD-1", "insured": {"region": "410100", "scheme": "employee"}}',
    b'{"kind": "claim", "id": "BAD-2", "insured": {"region": "41", "scheme": "employee"}, "visit": {"kind": "inpatient"}, "costs": {}}',
    b"[]",
]


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("yidi-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.files.maxPartitionBytes", str(1 << 20))   # a 5 MB file: several partitions
               .config("spark.sql.shuffle.partitions", "2")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def engine():
    return Engine.load(POLICIES)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, engine):
    """10,000 synthetic claims as JSON Lines, and what `yidi batch` makes of them."""
    folder = tmp_path_factory.mktemp("spark")
    claims = folder / "claims.jsonl"
    with open(claims, "w", encoding="utf-8") as out:
        for claim in generate(N, seed=15):
            out.write(json.dumps(claim, ensure_ascii=False) + "\n")
    answers, errors = io.BytesIO(), io.BytesIO()
    with open(claims, "rb") as lines:
        run_batch(POLICIES, lines, answers, errors, engine=engine)
    assert not errors.getvalue()
    decisions = {json.loads(line)["claim_id"]: line.decode() for line in answers.getvalue().splitlines()}
    assert len(decisions) == N
    return folder, claims, decisions


@pytest.fixture(scope="module")
def policies(spark, engine):
    return load_policies(spark, POLICIES, engine=engine)


def _decided(frame) -> dict[str, str]:
    rows = frame.select("id", "decision", "error", "error_body").collect()
    assert [r["error_body"] for r in rows if r["error"] is not None] == []
    return {r["id"]: r["decision"] for r in rows}


def test_a_json_column_is_decided_exactly_as_yidi_batch_decides_it(spark, corpus, policies, engine):
    _, claims, expected = corpus
    table = spark.read.text(str(claims))
    assert table.rdd.getNumPartitions() > 1
    decisions = decide(table, policies, column="value")
    assert _decided(decisions) == expected
    assert {r["revision"] for r in decisions.select("revision").distinct().collect()} == {engine.revision}


def test_a_nested_parquet_table_is_decided_exactly_as_yidi_batch_decides_it(spark, corpus, policies):
    folder, claims, expected = corpus
    spark.read.json(str(claims)).write.mode("overwrite").parquet(str(folder / "claims.parquet"))
    table = spark.read.parquet(str(folder / "claims.parquet"))
    assert dict(table.dtypes)["visit"].startswith("struct<")
    decisions = decide(table, policies)
    assert _decided(decisions) == expected
    fund = decisions.where("id = 'SYN15-0000000'").select("amounts.fund", "route", "treatment", "policy").first()
    answer = json.loads(expected["SYN15-0000000"])
    assert (str(fund["fund"]).rstrip("0").rstrip("."), fund["route"], fund["treatment"], fund["policy"]) == (
        str(answer["amounts"]["fund"]), answer["route"], answer["treatment"], answer["policy"]["id"])


def test_invalid_rows_become_error_rows_with_the_error_body_batch_writes(spark, corpus, policies, engine):
    folder, claims, _ = corpus
    good = claims.read_bytes().splitlines()[:50]
    mixed = folder / "mixed.jsonl"
    mixed.write_bytes(b"\n".join(good[:20] + BAD_LINES + good[20:]) + b"\n")
    answers, errors = io.BytesIO(), io.BytesIO()
    with open(mixed, "rb") as lines:
        run_batch(POLICIES, lines, answers, errors, engine=engine)
    expected = [{k: v for k, v in json.loads(line).items() if k != "line"} for line in errors.getvalue().splitlines()]
    assert len(expected) == len(BAD_LINES)

    rows = decide(spark.read.text(str(mixed)), policies, column="value").collect()
    assert len(rows) == 50 + len(BAD_LINES)
    failed = [r for r in rows if r["error"] is not None]
    assert [json.loads(r["error_body"]) for r in failed] == expected
    assert [r["decision"] for r in failed] == [None] * len(BAD_LINES)
    by_id = {r["id"]: r for r in failed}
    assert "visit" in {p["path"] for p in by_id["BAD-1"]["problems"]}
    assert "insured.region" in {p["path"] for p in by_id["BAD-2"]["problems"]}
    assert all(r["revision"] == engine.revision for r in rows)


def test_a_nested_row_missing_a_required_field_is_an_error_row_naming_it(spark, policies):
    claim = next(generate(1, seed=3))
    del claim["costs"]
    frame = spark.read.json(spark.sparkContext.parallelize([json.dumps(claim)]))
    (row,) = decide(frame, policies).collect()
    assert row["error"] == "invalid-input" and [p["path"] for p in row["problems"]] == ["costs"]


@pytest.fixture
def other_revision(tmp_path, engine):
    """A copy of the shipped tree with one byte more: the same rules, another revision."""
    other = tmp_path / "other" / "policies"
    shutil.copytree(POLICIES, other, ignore=shutil.ignore_patterns("tests"))
    henan = other / "henan" / "policy.yaml"
    henan.write_text(henan.read_text(encoding="utf-8") + "\n# a changed file is another revision\n", encoding="utf-8")
    assert Engine.load(other).revision != engine.revision
    return other


def test_an_executor_loading_another_revision_fails_the_job_naming_both(spark, corpus, engine, other_revision):
    _, claims, _ = corpus
    other = other_revision
    changed = Engine.load(other).revision

    policies = load_policies(spark, POLICIES, executor_path=str(other), engine=engine)
    with pytest.raises(Exception) as failure:
        decide(spark.read.text(str(claims)), policies, column="value").count()
    assert MISMATCH in str(failure.value) and engine.revision in str(failure.value) and changed in str(failure.value)

    same = load_policies(spark, POLICIES, executor_path=str(POLICIES), engine=engine)   # the same files: accepted
    assert decide(spark.read.text(str(claims)), same, column="value").where("error is null").count() == N


def test_the_mismatch_is_an_error_the_executor_raises_itself(engine, tmp_path):
    from yidi.spark.shipping import Shipment, engine_for

    with pytest.raises(RevisionMismatch):
        engine_for(Shipment("0" * 16, "policies", executor_path=str(POLICIES)))
    assert engine_for(Shipment(engine.revision, "policies", executor_path=str(POLICIES))).revision == engine.revision


@pytest.mark.parametrize("form", ["jsonl", "parquet"])
def test_the_impact_report_on_spark_is_the_report_of_yidi_diff(spark, tmp_path, form):
    from yidi.cli import main

    old, new = tmp_path / "old" / "policies", tmp_path / "new" / "policies"
    officer_change(POLICIES, old, new)
    claims = tmp_path / "claims.jsonl"
    with open(claims, "w", encoding="utf-8") as out:
        for claim in generate(N, seed=2026, policies=new):
            out.write(json.dumps(claim, ensure_ascii=False) + "\n")
        out.write("{not json\n")
    assert main(["diff", str(old), str(new), "--claims", str(claims), "--json", str(tmp_path / "a.json"), "--jobs", "1",
                 "--no-progress"]) == 0
    table = claims
    if form == "parquet":    # one file of several row groups: several partitions, in the file's order
        table = tmp_path / "claims.parquet"
        valid = spark.read.text(str(claims)).where("value like '{\"%'")
        spark.read.json(valid.rdd.map(lambda row: row.value)).coalesce(1).write.option("parquet.block.size", 1 << 16).parquet(str(table))
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(1 << 16))
    try:
        read = spark.read.parquet(str(table)) if form == "parquet" else spark.read.text(str(table))
        assert read.rdd.getNumPartitions() > 1
        assert spark_main(["diff", str(old), str(new), "--claims", str(table), "--json", str(tmp_path / "b.json")]) == 0
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(1 << 20))
    a, b = (json.loads((tmp_path / name).read_text(encoding="utf-8")) for name in ("a.json", "b.json"))
    for report in (a, b):
        del report["seconds"], report["claims_file"]
    if form == "parquet":    # the one line that is not JSON cannot be a row of a table
        assert a.pop("invalid_examples") and b.pop("invalid_examples") == []
        assert (a.pop("claims"), a.pop("invalid")) == (b.pop("claims") + 1, b.pop("invalid") + 1)
    assert a["outcome_changed"] > 0 and a["examples"]
    assert b == a


def test_the_python_api_gives_the_summary_yidi_diff_counts(spark, tmp_path):
    from yidi.impact import results
    from yidi.impact_summary import Summary

    old, new = tmp_path / "old" / "policies", tmp_path / "new" / "policies"
    officer_change(POLICIES, old, new)
    claims = tmp_path / "claims.jsonl"
    claims.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in generate(2000, seed=9, policies=new)), encoding="utf-8")
    trees = Engine.load(old), Engine.load(new)
    expected = Summary(5)
    with open(claims, "rb") as lines:
        for block in results(trees[0].policies, trees[1].policies, lines):
            expected.add(block)
    summary, texts = impact(spark.read.text(str(claims)), load_policies(spark, old), load_policies(spark, new), column="value", sample=5)
    assert (summary.tally.claims, summary.tally.outcome, summary.tally.fund_delta) == (
        expected.tally.claims, expected.tally.outcome, expected.tally.fund_delta)
    assert summary.examples() == expected.examples()
    assert sorted(texts) == sorted({record["line"] for _, record in expected.examples()})


def test_command_line_mistakes_are_plain_messages(tmp_path, capsys):
    assert spark_main(["decide", str(tmp_path / "missing.parquet"), "-o", str(tmp_path / "out")]) == 2
    assert "找不到" in capsys.readouterr().err
    (tmp_path / "out").mkdir()
    (tmp_path / "in.jsonl").write_text("{}\n", encoding="utf-8")
    assert spark_main(["decide", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out"), "--lang", "en"]) == 2
    assert "exists" in capsys.readouterr().err
    assert spark_main(["decide", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "o2"), "--policies", str(tmp_path / "nope")]) == 2
    assert "--policies" in capsys.readouterr().err
    broken = tmp_path / "broken"
    shutil.copytree(POLICIES, broken, ignore=shutil.ignore_patterns("tests"))
    (broken / "henan" / "policy.yaml").write_text("id: [\n", encoding="utf-8")
    assert spark_main(["decide", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "o3"), "--policies", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "henan/policy.yaml:" in err and "Traceback" not in err


def test_the_command_line_decides_a_file_as_batch_and_names_a_revision_mismatch(spark, corpus, tmp_path, other_revision, capsys):
    _, claims, expected = corpus
    out, summary = tmp_path / "decisions.parquet", tmp_path / "summary.json"
    assert spark_main(["decide", str(claims), "-o", str(out), "--policies", str(POLICIES), "--summary-json", str(summary)]) == 0
    counts = json.loads(summary.read_text(encoding="utf-8"))
    assert (counts["lines"], counts["decided"], counts["errors"]) == (N, N, 0)
    assert _decided(spark.read.parquet(str(out))) == expected

    assert spark_main(["decide", str(claims), "-o", str(tmp_path / "again"), "--policies", str(POLICIES),
                       "--executor-policies", str(other_revision), "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "an executor loaded another policy revision" in err and "Traceback" not in err
