"""(i) yidi.spark in local mode against `yidi batch` on the same claims, on this machine.

    python bench/spark.py [--claims 200000]       # or as section i of bench/run.py

Writes section (h) of bench/results.md and bench/results.json, leaving the other sections as they are.

The same synthetic claims as JSON Lines (for `yidi batch` with 1 and 2 workers,
and for Spark's JSON text column) and as a nested Parquet table written from
them (not timed). Every run is a command line, start-up included (Spark's JVM
too); for Spark the job's own time (decide and write the Parquet output) is
shown beside it. Spark's decisions are checked identical to batch's.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
POLICIES = ROOT / "policies"


def _timed(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def spark_vs_batch(n: int, workdir: pathlib.Path) -> dict:
    import pyarrow.parquet as pq
    from pyspark.sql import SparkSession

    from yidi.jsonout import dump_bytes
    from yidi.synth import generate

    corpus = workdir / "claims.jsonl"
    with open(corpus, "wb") as handle:
        for claim in generate(n, 11):
            handle.write(dump_bytes(claim) + b"\n")
    table = workdir / "claims.parquet"
    spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
    spark.read.json(str(corpus)).write.parquet(str(table))
    spark.stop()

    results: dict = {"claims": n, "corpus_mb": round(corpus.stat().st_size / 1e6, 1)}
    for workers in (1, 2):
        out = workdir / f"batch{workers}.jsonl"
        seconds = _timed([sys.executable, "-m", "yidi", "batch", str(corpus), "-o", str(out), "--workers", str(workers),
                          "--policies", str(POLICIES)])
        results[f"batch_{workers}"] = {"wall_s": round(seconds, 2), "claims_per_s": round(n / seconds)}
    expected = {json.loads(line)["claim_id"]: line for line in (workdir / "batch1.jsonl").read_text(encoding="utf-8").splitlines()}
    for name, source in (("spark_json", corpus), ("spark_parquet", table)):
        out, summary = workdir / f"{name}.out", workdir / f"{name}.json"
        seconds = _timed([sys.executable, "-m", "yidi.spark", "decide", str(source), "-o", str(out), "--master", "local[2]",
                          "--policies", str(POLICIES), "--summary-json", str(summary)])
        job = json.loads(summary.read_text(encoding="utf-8"))
        decided = pq.read_table(out, columns=["id", "decision"]).to_pydict()
        results[name] = {"wall_s": round(seconds, 2), "claims_per_s": round(n / seconds), "job_s": job["seconds"],
                         "job_claims_per_s": round(n / job["seconds"]), "errors": job["errors"],
                         "identical_to_batch": dict(zip(decided["id"], decided["decision"])) == expected}
    results.update(_warm(corpus, table, workdir, n))
    return results


def _warm(corpus: pathlib.Path, table: pathlib.Path, workdir: pathlib.Path, n: int) -> dict:
    """Each input decided twice in one session, the second run timed: Python workers started, engines loaded —
    what a long job on a cluster sees once start-up is paid."""
    from pyspark.sql import SparkSession

    from yidi.spark import decide, load_policies

    spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    policies = load_policies(spark, POLICIES)
    out: dict = {}
    for name, frame, column in (("warm_json", spark.read.text(str(corpus)), "value"), ("warm_parquet", spark.read.parquet(str(table)), None)):
        for attempt in (1, 2):
            start = time.perf_counter()
            decide(frame, policies, column=column).write.mode("overwrite").parquet(str(workdir / f"{name}.out"))
            seconds = time.perf_counter() - start
        out[name] = {"job_s": round(seconds, 2), "job_claims_per_s": round(n / seconds)}
    spark.stop()
    return out


def markdown(d: dict) -> list[str]:
    base = d["batch_2"]["claims_per_s"]
    rows = [("`yidi batch --workers 1`", d["batch_1"], None), ("`yidi batch --workers 2`", d["batch_2"], None),
            ("Spark `local[2]`, JSON text column (`.jsonl`)", d["spark_json"], d["spark_json"]),
            ("Spark `local[2]`, nested Parquet table", d["spark_parquet"], d["spark_parquet"])]
    out = [f"## (i) `python -m yidi.spark decide` in local mode against `yidi batch`: {d['claims']:,} claims "
           f"({d['corpus_mb']} MB JSONL)" + (f" (measured {d['when']})" if d.get("when") else ""), "",
           "Each a command line, start-up included (for Spark, its JVM); the job column is Spark's own time to decide and "
           "write the Parquet output, without start-up. × batch 2 compares claims/s with `yidi batch --workers 2`.", "",
           "| run | wall s | claims/s | job s | job claims/s | × batch 2 (job) |", "|---|---:|---:|---:|---:|---:|"]
    for name, r, job in rows:
        if job is None:
            out.append(f"| {name} | {r['wall_s']} | {r['claims_per_s']:,} | | | {r['claims_per_s'] / base:.2f} |")
        else:
            out.append(f"| {name} | {r['wall_s']} | {r['claims_per_s']:,} | {r['job_s']} | {r['job_claims_per_s']:,} "
                       f"| {r['job_claims_per_s'] / base:.2f} |")
    for name, key in (("Spark `local[2]`, JSON text column, warm (second run in one session)", "warm_json"),
                      ("Spark `local[2]`, nested Parquet table, warm (second run in one session)", "warm_parquet")):
        if key in d:
            r = d[key]
            out.append(f"| {name} | | | {r['job_s']} | {r['job_claims_per_s']:,} | {r['job_claims_per_s'] / base:.2f} |")
    out += ["", f"Spark's decisions identical to `yidi batch`'s: JSON column {d['spark_json']['identical_to_batch']}, "
                f"Parquet {d['spark_parquet']['identical_to_batch']}.", ""]
    return out


def record(results: dict) -> None:
    """Keep the figures as section i of bench/results.json and bench/results.md (replacing an earlier (i))."""
    stored = HERE / "results.json"
    data = json.loads(stored.read_text(encoding="utf-8")) if stored.is_file() else {}
    data["spark"] = results
    stored.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    page = HERE / "results.md"
    text = page.read_text(encoding="utf-8") if page.is_file() else "# yidi benchmark\n\n"
    section = "\n".join(markdown(results))
    start = text.find("## (h) ")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    else:
        anchor = text.find("## (b) ")
        text = text[:anchor] + section + "\n" + text[anchor:] if anchor >= 0 else text.rstrip("\n") + "\n\n" + section
    page.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description="yidi.spark local mode against yidi batch")
    parser.add_argument("--claims", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        results = {**spark_vs_batch(args.claims, pathlib.Path(work)), "when": time.strftime("%Y-%m-%d %H:%M")}
    record(results)
    print("\n".join(markdown(results)))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "engine"))
    sys.exit(main())
