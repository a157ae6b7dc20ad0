"""The benchmark suite: one command, one run, ratios against peers in the same run.

    python bench/run.py            # full run (1,000,000 claims for the batch figures)
    python bench/run.py --quick    # smaller corpora, same measurements

Measures (a) per-decision latency of yidi with and without trace against a
hand-written Python function implementing the same Henan rules (answers
checked identical on 10,000 synthetic claims); (b) the same decision written
for zen-engine, simpleeval and JsonLogic (`pip install -e ".[bench]"`),
answers checked against the hand-written function; (c) batch throughput with 1
and 2 worker processes, JSON parsing and writing included; (d) load+check
time of the whole policy tree, cold and from the on-disk cache; (e) wall time
of `yidi eval` for one claim in a fresh process; (f) peak memory of the batch
runs; (g) `yidi diff` of 40,000 claims under the officer's change of issue 14
(a value changed from a date, a new city) against `yidi batch --workers 2` of
the same claims — a diff decides each claim twice, so about 2× is the aim,
2.5× the limit; (h) `yidi batch` with `--trace ids`, `full` and `compact`
on the same synthetic claims (time, bytes, trace bytes per claim, each
against ids in the same run — compact must stay within 1.5× of ids and
1 KB of trace a claim), and `yidi explain` of the compact file, checked
byte for byte against the full one. (i) `python -m yidi.spark decide` in local mode (`local[2]`, JSON column and nested Parquet)
against `yidi batch` with 1 and 2 workers on the same 200,000 claims (bench/spark.py; needs
`.[spark]` and Java). Results are printed and written to bench/results.md and
bench/results.json. No test asserts a time; this is where times live.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import pathlib
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "engine"))
sys.path.insert(0, str(HERE))

import handwritten_henan  # noqa: E402
from yidi import Engine  # noqa: E402
from yidi.documents import load_json  # noqa: E402
from yidi.fastdecode import convert_fast, decode_fast  # noqa: E402
from yidi.jsonout import dump_bytes  # noqa: E402
from yidi.synth import generate  # noqa: E402

POLICIES = ROOT / "policies"
HENAN_REGIONS = ["410100", "410300", "411700"]


def per_claim(function, items, repeats: int) -> float:
    """Median over `repeats` passes of the time per item, in microseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for item in items:
            function(item)
        times.append((time.perf_counter() - start) / len(items) * 1e6)
    return statistics.median(times)


def latency(n: int, repeats: int) -> dict:
    engine = Engine.load(POLICIES)
    evaluator = engine.evaluator
    texts = [dump_bytes(claim) for claim in generate(n, 7, regions=HENAN_REGIONS)]
    flats = [convert_fast(load_json(text)) for text in texts]
    assert all(flat is not None for flat in flats)
    fields = ("scope", "route", "filing_status", "treatment", "catalog", "reduction_pp", "ratio", "amounts", "flags")
    for flat in flats:  # the same answers, or the comparison means nothing
        mine = evaluator.evaluate_flat(dict(flat), "ids")
        theirs = handwritten_henan.decide(flat)
        assert {k: mine[k] for k in fields} == theirs, (flat, mine, theirs)
    copies = [dict(flat) for flat in flats]
    hand = per_claim(handwritten_henan.decide, flats, repeats)
    ids = per_claim(lambda f: evaluator.evaluate_flat(f, "ids"), copies, repeats)
    full = per_claim(lambda f: evaluator.evaluate_flat(f, "full"), copies, repeats)
    hand_e2e = per_claim(lambda t: handwritten_henan.decide(decode_fast(t)), texts, repeats)  # the same fast decoder
    e2e = per_claim(lambda t: dump_bytes(engine.evaluate_json(t, "ids")), texts, repeats)
    # A service's natural call: the body parsed by the standard library (money as floats), then evaluate().
    parsed = per_claim(lambda t: engine.evaluate(json.loads(t), "ids"), texts, repeats)
    text_only = per_claim(lambda t: engine.evaluate_json(t, "ids"), texts, repeats)
    return {"claims_checked_identical": n, "handwritten_us": hand, "yidi_ids_us": ids, "yidi_full_us": full,
            "handwritten_json_to_answer_us": hand_e2e, "yidi_json_to_json_us": e2e,
            "yidi_evaluate_json_us": text_only, "yidi_evaluate_json_loads_us": parsed}


def run_quiet(args: list[str], env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return time.perf_counter() - start, done


def batch(n: int, workdir: pathlib.Path) -> dict:
    corpus = workdir / "claims.jsonl"
    with open(corpus, "wb") as handle:
        for claim in generate(n, 11):
            handle.write(dump_bytes(claim) + b"\n")
    results = {"claims": n, "corpus_mb": round(corpus.stat().st_size / 1e6, 1)}
    for workers in (1, 2):
        out = workdir / f"out{workers}.jsonl"
        summary = workdir / f"summary{workers}.json"
        seconds, _ = run_quiet([sys.executable, "-m", "yidi", "batch", str(corpus), "-o", str(out), "--workers", str(workers),
                                "--policies", str(POLICIES), "--summary-json", str(summary)])
        stats = json.loads(summary.read_text())
        results[f"workers_{workers}"] = {"wall_s": round(seconds, 2), "claims_per_s": round(n / seconds),
                                         "decided": stats["decided"], "errors": stats["errors"],
                                         "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}
    same = (workdir / "out1.jsonl").read_bytes() == (workdir / "out2.jsonl").read_bytes()
    results["outputs_identical"] = same
    return results


_TIMED_LOAD = (
    "import sys, time; sys.path.insert(0, {engine!r}); from yidi import Engine; "
    "t = time.perf_counter(); Engine.load({policies!r}, cache={cache!r}); print(time.perf_counter() - t)"
)


def diff_cost(n: int, workdir: pathlib.Path) -> dict:
    """(g) `yidi diff` against `yidi batch --workers 2` on the same claims, both from the command line."""
    sys.path.insert(0, str(ROOT / "tests"))
    from officer_edits import officer_change  # the change tests/test_diff.py checks (issue 14)

    old, new = workdir / "old", workdir / "new"
    officer_change(POLICIES, old, new)
    corpus = workdir / "diff-claims.jsonl"
    with open(corpus, "wb") as handle:
        for claim in generate(n, 14, policies=new):
            handle.write(dump_bytes(claim) + b"\n")
    batch_s, _ = run_quiet([sys.executable, "-m", "yidi", "batch", str(corpus), "-o", str(workdir / "diff-batch.jsonl"),
                            "--workers", "2", "--policies", str(new)])
    diff_s, done = run_quiet([sys.executable, "-m", "yidi", "diff", str(old), str(new), "--claims", str(corpus), "--jobs", "2",
                              "--json", str(workdir / "diff.json"), "--markdown", str(workdir / "diff.md"),
                              "--html", str(workdir / "diff.html"), "--no-progress"])
    report = json.loads((workdir / "diff.json").read_text())
    return {"claims": n, "batch_workers_2_s": round(batch_s, 2), "diff_jobs_2_s": round(diff_s, 2),
            "ratio": round(diff_s / batch_s, 2), "outcome_changed": report["outcome_changed"], "label_only": report["label_only"]}


def _trace_bytes(path: pathlib.Path) -> int:
    """Bytes of the `trace` members of a batch output (table lines included): each decision's `"trace":…`
    up to its last member `"undetermined"` or the end — found by bytes, so a 10 GB file is read, not parsed."""
    total = 0
    with open(path, "rb") as handle:
        for line in handle:
            start = line.find(b'"trace":')
            if start < 0:
                total += len(line)   # the compact file's table
                continue
            end = line.rfind(b',"undetermined":[')
            total += (end if end > start else len(line.rstrip(b"\n")) - 1) - start
    return total


def _same_bytes(a: pathlib.Path, b: pathlib.Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as first, open(b, "rb") as second:
        while True:
            x, y = first.read(1 << 24), second.read(1 << 24)
            if x != y:
                return False
            if not x:
                return True


def traces(n: int, workdir: pathlib.Path, rounds: int) -> dict:
    """(h) Batch with each trace form over the same claims, from the command line, 1 worker; best of `rounds`
    rounds that interleave the forms (a busy machine slows all three alike); then `yidi explain` of the compact file."""
    corpus = workdir / "trace-claims.jsonl"
    with open(corpus, "wb") as handle:
        for claim in generate(n, 15):
            handle.write(dump_bytes(claim) + b"\n")
    forms = ("ids", "full", "compact")
    wall: dict = {form: [] for form in forms}
    inner: dict = {form: [] for form in forms}
    for _ in range(rounds):
        for form in forms:
            summary = workdir / f"summary-{form}.json"
            seconds, _ = run_quiet([sys.executable, "-m", "yidi", "batch", str(corpus), "-o", str(workdir / f"{form}.jsonl"),
                                    "--trace", form, "--policies", str(POLICIES), "--summary-json", str(summary)])
            wall[form].append(seconds)
            inner[form].append(json.loads(summary.read_text())["seconds"])
    results: dict = {"claims": n, "rounds": rounds}
    ids_wall, ids_inner = min(wall["ids"]), min(inner["ids"])
    for form in forms:
        out = workdir / f"{form}.jsonl"
        size = out.stat().st_size
        results[form] = {"wall_s": round(min(wall[form]), 2), "batch_s": round(min(inner[form]), 2),
                         "x_ids_wall": round(min(wall[form]) / ids_wall, 2), "x_ids_batch": round(min(inner[form]) / ids_inner, 2),
                         "bytes_per_claim": round(size / n), "trace_bytes_per_claim": round(_trace_bytes(out) / n)}
    table = (workdir / "compact.jsonl").open("rb").readline()
    results["table_bytes"] = len(table)
    explained = workdir / "explained.jsonl"
    results["explain_s"] = round(run_quiet([sys.executable, "-m", "yidi", "explain", str(workdir / "compact.jsonl"),
                                            "-o", str(explained)])[0], 2)
    results["explain_identical_to_full"] = _same_bytes(explained, workdir / "full.jsonl")
    return results


def loading(repeats: int) -> dict:
    """Each load in a fresh process, so no in-process memo makes it look faster than a real cold start."""
    def timed(cache) -> float:
        code = _TIMED_LOAD.format(engine=str(ROOT / "engine"), policies=str(POLICIES), cache=cache)
        return float(run_quiet([sys.executable, "-c", code])[1].stdout.strip())

    cold = [timed(False) for _ in range(repeats)]
    with tempfile.TemporaryDirectory() as cache:
        timed(cache)
        cached = [timed(cache) for _ in range(repeats)]
    return {"cold_ms": statistics.median(cold) * 1000, "cached_ms": statistics.median(cached) * 1000}


def cli_start(repeats: int) -> dict:
    """Wall time of `yidi eval` in a fresh process, as this environment runs it and as an installed package runs it.

    An installed package has its modules compiled to bytecode at install time;
    when the environment forbids writing bytecode (PYTHONDONTWRITEBYTECODE),
    every start recompiles every module — measured separately so both are honest.
    """
    claim = str(ROOT / "examples" / "henan-referral.claim.json")
    as_installed = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    run_quiet([sys.executable, "-m", "yidi", "eval", claim], as_installed)  # warm the cache and the bytecode
    warm = [run_quiet([sys.executable, "-m", "yidi", "eval", claim])[0] for _ in range(repeats)]
    bytecode = [run_quiet([sys.executable, "-m", "yidi", "eval", claim], as_installed)[0] for _ in range(repeats)]
    nocache = [run_quiet([sys.executable, "-m", "yidi", "eval", "--no-cache", claim], as_installed)[0] for _ in range(repeats)]
    imports = [run_quiet([sys.executable, "-c", "import yidi.cli"], as_installed)[0] for _ in range(repeats)]
    python = [run_quiet([sys.executable, "-c", "pass"])[0] for _ in range(repeats)]
    return {"eval_cached_ms": statistics.median(warm) * 1000, "eval_cached_bytecode_ms": statistics.median(bytecode) * 1000,
            "eval_no_cache_ms": statistics.median(nocache) * 1000,
            "import_yidi_ms": statistics.median(imports) * 1000, "bare_python_ms": statistics.median(python) * 1000,
            "bytecode_writing_disabled": bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))}


PEERS = [  # (b): (label, module under bench/peers, prepare() arguments, distribution)
    ("zen-engine: JDM, facts + 7 decision tables", "zen_jdm", {"variant": "tables"}, "zen-engine"),
    ("zen-engine: JDM, one expression node", "zen_jdm", {"variant": "expressions"}, "zen-engine"),
    ("simpleeval: 39 pre-parsed expressions over Decimal", "simpleeval_exprs", {}, "simpleeval"),
    ("JsonLogic (panzi-json-logic): standard, float numbers", "jsonlogic_rules", {"numbers": "float"}, "panzi-json-logic"),
    ("JsonLogic (panzi-json-logic): + decimal arithmetic ops", "jsonlogic_rules", {"numbers": "decimal"}, "panzi-json-logic"),
]
EXACT_FIELDS = ("scope", "route", "filing_status", "treatment", "catalog", "flags")
MONEY_FIELDS = ("reduction_pp", "ratio", "in_scope", "deductible", "fund", "personal")


def _money(answer: dict, field: str):
    if field in ("reduction_pp", "ratio"):
        return answer[field]
    return None if answer["amounts"] is None else answer["amounts"][field]


def _shape(amounts):
    """`amounts` is null as a whole when the decision leaves it undetermined, else an object with its keys."""
    return None if amounts is None else amounts.keys()


def compare(answers: list, references: list) -> dict:
    """Non-money fields must be identical, and so must whether `amounts` is decided at all (null vs an
    object is a different decision, not a rounding); money fields are counted, not hidden, when they differ."""
    other = money_claims = money_fields = null_vs_value = cent_or_more = 0
    worst = None
    for mine, theirs in zip(answers, references):
        if (mine.keys() != theirs.keys() or _shape(mine["amounts"]) != _shape(theirs["amounts"])
                or any(mine[k] != theirs[k] for k in EXACT_FIELDS)):
            other += 1
            continue
        differing = 0
        for field in MONEY_FIELDS:
            a, b = _money(mine, field), _money(theirs, field)
            if a != b:
                differing += 1
                if a is None or b is None:
                    null_vs_value += 1
                else:
                    worst = abs(a - b) if worst is None else max(worst, abs(a - b))
                    cent_or_more += abs(a - b) >= Decimal("0.01")
        money_claims += differing > 0
        money_fields += differing
    return {"identical": other == 0 and money_claims == 0, "claims_non_money_differ": other,
            "claims_money_differ": money_claims, "money_fields_differ": money_fields,
            "money_fields_differ_by_a_cent_or_more": cent_or_more, "money_null_vs_value": null_vs_value, "money_max_abs_diff": None if worst is None else str(worst)}


def peers(n: int, repeats: int) -> dict:
    """(b) The same decision in peer engines (bench/peers/), on the same claims and flat inputs as (a).

    The hand-written function and yidi are timed again here, next to the peers, so that the
    ratios compare figures taken in the same phase on a noisy machine."""
    evaluator = Engine.load(POLICIES).evaluator
    flats = [convert_fast(load_json(dump_bytes(claim))) for claim in generate(n, 7, regions=HENAN_REGIONS)]
    references = [handwritten_henan.decide(flat) for flat in flats]
    copies = [dict(flat) for flat in flats]
    results: dict = {"claims": n, "handwritten_us": per_claim(handwritten_henan.decide, flats, repeats),
                     "yidi_ids_us": per_claim(lambda f: evaluator.evaluate_flat(f, "ids"), copies, repeats), "rows": []}
    for label, name, arguments, distribution in PEERS:
        try:
            module = importlib.import_module(f"peers.{name}")
            version = importlib.metadata.version(distribution)
        except ImportError as error:
            results["rows"].append({"peer": label, "installed": False, "error": str(error)})
            continue
        print(f"    {label} …", flush=True)
        start = time.perf_counter()
        prepared = module.prepare(**arguments)
        module.decide(prepared, flats[0])  # zen-engine loads and compiles the graph on first use
        ready_ms = (time.perf_counter() - start) * 1000
        row = {"peer": label, "installed": True, "version": f"{distribution} {version}", "ready_ms": ready_ms,
               **compare([module.decide(prepared, flat) for flat in flats], references)}
        row["us"] = per_claim(lambda f: module.decide(prepared, f), flats, repeats)
        row["input_conversion_us"] = per_claim(lambda f: module.convert(prepared, f), flats, repeats)
        if hasattr(module, "decide_created"):  # zen-engine: the create_decision(…).evaluate(…) path, for comparison
            sample = flats[:2000]
            assert all(module.decide_created(prepared, f) == module.decide(prepared, f) for f in sample[:200])
            row["create_decision_path_us"] = per_claim(lambda f: module.decide_created(prepared, f), sample, repeats)
            row["create_decision_path_claims"] = len(sample)
        results["rows"].append(row)
    return results


def markdown_peers(p: dict) -> list[str]:
    hand, ids = p["handwritten_us"], p["yidi_ids_us"]
    out = [f"{p['claims']:,} synthetic Henan claims, the same flat inputs as (a); each peer's answers are compared "
           "with the hand-written function's on all of them. Input conversion (flat document → the peer's input format) "
           "is included in µs/claim and also shown alone. The hand-written function and yidi are timed again in this "
           "phase, next to the peers.", "",
           "| way to decide | µs/claim | of which input conversion | × hand-written | × yidi (trace ids) | answers |",
           "|---|---:|---:|---:|---:|---|",
           f"| hand-written Python (this phase) | {hand:.2f} | – | 1.0 | {hand / ids:.2f} | reference |",
           f"| yidi compiled policy, trace = rule ids (this phase) | {ids:.2f} | – | {ids / hand:.1f} | 1.0 | identical |"]
    notes = []
    for row in p["rows"]:
        if not row["installed"]:
            out.append(f"| {row['peer']} | not installed (pip install .[bench]) | | | | |")
            continue
        if row["identical"]:
            answers = f"identical ({p['claims']:,})"
        elif row["claims_non_money_differ"]:
            answers = f"**{row['claims_non_money_differ']:,} claims differ in non-money fields**"
        else:
            answers = (f"non-money identical; money differs in {row['claims_money_differ']:,} claims "
                       f"({row['money_fields_differ']:,} fields, {row['money_fields_differ_by_a_cent_or_more']:,} of them "
                       f"by a cent or more; max abs difference {row['money_max_abs_diff']}"
                       + (f", {row['money_null_vs_value']:,} null vs value" if row["money_null_vs_value"] else "") + ")")
        out.append(f"| {row['peer']} ({row['version']}) | {row['us']:.1f} | {row['input_conversion_us']:.1f} | "
                   f"{row['us'] / hand:.1f} | {row['us'] / ids:.2f} | {answers} |")
        notes.append(f"- {row['peer']}: ready (prepare + first claim) in {row['ready_ms']:.0f} ms")
        if "create_decision_path_us" in row:
            notes[-1] += (f"; through `create_decision(…).evaluate(…)` instead of the static loader: "
                          f"{row['create_decision_path_us']:.1f} µs/claim (first {row['create_decision_path_claims']:,} claims)")
    out += ["", *notes, "",
            "Custom operations (where the peer has no equivalent): simpleeval `add_months` (calendar months); "
            "JsonLogic `add_months`, `day_of_month`, and in the decimal row `+ - * / % min max` on exact numbers. "
            "zen-engine: none. Details in the docstrings of bench/peers/."]
    return out


def markdown(results: dict) -> str:
    lat = results["latency"]
    hand = lat["handwritten_us"]
    rows = [
        ("hand-written Python, Henan decision (flat input)", "handwritten_us"),
        ("yidi compiled policy, trace = rule ids", "yidi_ids_us"),
        ("yidi compiled policy, full trace", "yidi_full_us"),
        ("hand-written, JSON text → validated (yidi's fast decoder) → answer", "handwritten_json_to_answer_us"),
        ("yidi, JSON text → validated → decision → JSON text", "yidi_json_to_json_us"),
        ("yidi, `Engine.evaluate_json(text)` (ids)", "yidi_evaluate_json_us"),
        ("yidi, `Engine.evaluate(json.loads(text))` (ids)", "yidi_evaluate_json_loads_us"),
    ]
    out = [f"# yidi benchmark — {results['when']}", "", f"Machine: {results['machine']}", "",
           f"## (a) Per decision ({lat['claims_checked_identical']:,} synthetic Henan claims, answers checked identical)", "",
           "| way to decide | µs/claim | × hand-written |", "|---|---:|---:|"]
    # a partial run keeps section (a) from results.json, which an older run may have written with fewer rows
    out += [f"| {name} | {lat[key]:.2f} | {lat[key] / hand:.1f} |" for name, key in rows if key in lat]
    if "yidi_evaluate_json_loads_us" in lat:
        out.append(f"\n`evaluate(json.loads(text))` costs {lat['yidi_evaluate_json_loads_us'] / lat['yidi_evaluate_json_us']:.2f}× "
                   "`evaluate_json(text)` (target ≤ 1.5×).")
    b = results["batch"]
    out += ["", f"## (c, f) Batch: {b['claims']:,} claims ({b['corpus_mb']} MB JSONL), parsing and writing included", "",
            "| workers | wall s | claims/s | peak RSS MB | errors |", "|---:|---:|---:|---:|---:|"]
    for w in (1, 2):
        r = b[f"workers_{w}"]
        out.append(f"| {w} | {r['wall_s']} | {r['claims_per_s']:,} | {r['peak_rss_mb']} | {r['errors']} |")
    out.append(f"\nOutputs of 1 and 2 workers identical: {b['outputs_identical']}")
    ld, cli = results["load"], results["cli"]
    out += ["", "## (d) Load and check the whole policy tree", "",
            f"- cold (parse, check, compile): {ld['cold_ms']:.0f} ms", f"- from the on-disk cache: {ld['cached_ms']:.0f} ms",
            "", "## (e) `yidi eval` of one claim, fresh process", "",
            f"- with the compiled-policy cache and bytecode (as an installed package runs): {cli['eval_cached_bytecode_ms']:.0f} ms",
            f"- with the cache, in this environment (bytecode writing disabled: {cli['bytecode_writing_disabled']}): {cli['eval_cached_ms']:.0f} ms",
            f"- without the policy cache: {cli['eval_no_cache_ms']:.0f} ms",
            f"- of which `import yidi.cli`: {cli['import_yidi_ms']:.0f} ms; a bare `python -c pass`: {cli['bare_python_ms']:.0f} ms",
            ""]
    d = results.get("diff")
    if d:
        out += [f"## (g) `yidi diff` of {d['claims']:,} claims against `yidi batch --workers 2` of the same claims"
                + (f" (measured {d['when']})" if d.get("when") and d["when"] != results.get("when") else ""), "",
                "Henan's other-temporary reduction 20 → 15 from 2026-01-01 and a new city 洛阳 overriding one parameter "
                "(the scenario of issue 14); the diff writes its JSON, Markdown and HTML reports. Both from the command line, start-up included.", "",
                "| run | wall s | × batch |", "|---|---:|---:|",
                f"| `yidi batch --workers 2` | {d['batch_workers_2_s']} | 1.0 |",
                f"| `yidi diff --jobs 2` | {d['diff_jobs_2_s']} | {d['ratio']} |", "",
                f"Outcome changed: {d['outcome_changed']:,} claims; only the policy's name changed: {d['label_only']:,}.", ""]
    for t in sorted(results.get("traces", {}).values(), key=lambda t: t["claims"]):   # one table per corpus size measured
        out += [f"## (h) Trace forms: `yidi batch --trace ids|full|compact` of {t['claims']:,} claims (measured {t['when']})", "",
                f"Command line, 1 worker, start-up included in wall s; batch s is the run's own figure (decide and write). "
                f"Best of {t['rounds']} interleaved round(s). Trace bytes: the `trace` members, the compact file's table included "
                f"({t['table_bytes']:,} bytes, once).", "",
                "| trace | wall s | × ids | batch s | × ids | bytes/claim | trace bytes/claim |", "|---|---:|---:|---:|---:|---:|---:|"]
        for form in ("ids", "full", "compact"):
            r = t[form]
            out.append(f"| `{form}` | {r['wall_s']} | {r['x_ids_wall']} | {r['batch_s']} | {r['x_ids_batch']} | "
                       f"{r['bytes_per_claim']:,} | {r['trace_bytes_per_claim']:,} |")
        out += ["", f"`yidi explain` of the compact file: {t['explain_s']} s; its output identical to the `--trace full` file, "
                f"byte for byte: {t['explain_identical_to_full']}. Aims (issue 15): compact ≤ 1.5× ids in time, ≤ 1 KB of trace a claim.", ""]
    if results.get("spark"):
        from spark import markdown as markdown_spark   # bench/spark.py

        out += markdown_spark(results["spark"])
    out += ["## (b) Peer engines, same decision", ""]
    out += markdown_peers(results["peers"])
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description="yidi benchmark suite")
    parser.add_argument("--quick", action="store_true", help="smaller corpora (100,000 batch claims, fewer repeats)")
    parser.add_argument("--batch-claims", type=int, help="claims for the batch measurement (default 1,000,000; 100,000 with --quick)")
    parser.add_argument("--diff-claims", type=int, default=40_000, help="claims for the diff measurement (default 40,000)")
    parser.add_argument("--trace-claims", type=int, help="claims for the trace-form measurement (default 100,000; 20,000 with --quick)")
    parser.add_argument("--trace-rounds", type=int, help="rounds of the trace-form measurement (default 3; 2 with --quick)")
    parser.add_argument("--spark-claims", type=int, default=200_000, help="claims for the Spark measurement (default 200,000)")
    parser.add_argument("--only", metavar="LETTERS", default="abcdefgh",
                        help="measure only these sections (e.g. g); the others are kept from the last bench/results.json")
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    n_batch = args.batch_claims or (100_000 if args.quick else 1_000_000)
    previous = json.loads((HERE / "results.json").read_text(encoding="utf-8")) if set("abcdefgh") - set(args.only) else {}
    now = time.strftime("%Y-%m-%d %H:%M")
    results: dict = {**previous, "machine": f"{platform.machine()}, "
                     f"{platform.python_implementation()} {platform.python_version()}, {len(os.sched_getaffinity(0))} cores"}
    if not previous:
        results["when"] = now          # a partial run keeps the date of the sections it did not measure
    if "a" in args.only:
        print("(a) latency …", flush=True)
        results["latency"] = latency(10_000, repeats)
    if "d" in args.only:
        print("(d) load …", flush=True)
        results["load"] = loading(repeats)
    if "e" in args.only:
        print("(e) CLI start …", flush=True)
        results["cli"] = cli_start(repeats)
    if set("cf") & set(args.only):
        print(f"(c) batch of {n_batch:,} …", flush=True)
        with tempfile.TemporaryDirectory() as work:
            results["batch"] = batch(n_batch, pathlib.Path(work))
    if "g" in args.only:
        print(f"(g) diff of {args.diff_claims:,} against batch …", flush=True)
        with tempfile.TemporaryDirectory() as work:
            results["diff"] = {**diff_cost(args.diff_claims, pathlib.Path(work)), "when": now}
    if "h" in args.only:
        n_traces = args.trace_claims or (20_000 if args.quick else 100_000)
        print(f"(h) trace forms over {n_traces:,} claims …", flush=True)
        with tempfile.TemporaryDirectory() as work:
            rounds = args.trace_rounds or (2 if args.quick else 3)
            results.setdefault("traces", {})[str(n_traces)] = {**traces(n_traces, pathlib.Path(work), rounds), "when": now}
    if "i" in args.only:     # needs the spark extra and Java (bench/spark.py)
        from spark import spark_vs_batch

        print(f"(i) Spark local[2] against batch, {args.spark_claims:,} claims …", flush=True)
        with tempfile.TemporaryDirectory() as work:
            results["spark"] = {**spark_vs_batch(args.spark_claims, pathlib.Path(work)), "when": now}
    if "b" in args.only:
        print("(b) peer engines …", flush=True)
        results["peers"] = peers(10_000, repeats)
    text = markdown(results)
    kept = (HERE / "results.md").read_text(encoding="utf-8") if (HERE / "results.md").is_file() else ""
    begin, end = "<!-- scale.py: begin -->", "<!-- scale.py: end -->"   # bench/scale.py's section stays
    if begin in kept and end in kept:
        text = text.rstrip("\n") + "\n\n" + kept[kept.index(begin):kept.index(end) + len(end)] + "\n"
    (HERE / "results.md").write_text(text, encoding="utf-8")
    (HERE / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
