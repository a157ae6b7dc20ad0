"""National scale: validate, load and test a synthetic tree of ~400 pooling regions, before and after.

    python bench/scale.py                      # this checkout only
    python bench/scale.py --before 96861b1     # and the same figures for an older revision, in the same run
    python bench/scale.py --before 96861b1 --before d8d1ddf --repeat 2   # two older revisions, best of 2 rounds

The tree is written by `yidi.synth_tree` into a temporary folder (the same
tree for both revisions). Every figure is a fresh `python -m yidi` process with
its own empty cache folder (XDG_CACHE_HOME), so "from nothing" means no
compiled policy and no kept result:

- validate from nothing; again with nothing changed; after editing one city file;
- loading and deciding one claim: from the compiled cache in a new process,
  again in the same process, and without the cache (every policy parsed,
  checked and compiled: what a first load costs);
- `yidi test` of every case.

The older revisions run from a `git worktree` of each (removed afterwards).
With `--repeat N` every engine is measured N times, the engines taking turns
within each round, and each figure is the best of its N (a shared machine
slows runs unevenly; the best is the least disturbed). Bytecode is written
under the work folder (PYTHONPYCACHEPREFIX), as an installed package has its
own, and warmed before measuring. The rows go into bench/results.md between
the scale markers (bench/run.py keeps them) with the ratio before/after. No
test asserts a time; times live here.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "engine"))

from yidi.synth_tree import write_national_tree  # noqa: E402

BEGIN, END = "<!-- scale.py: begin -->", "<!-- scale.py: end -->"
LOAD = """
import pathlib, sys, time
from yidi import Engine
root = pathlib.Path(sys.argv[1])
claim = {"id": "B", "insured": {"region": "130200", "scheme": "employee"}, "visit": {"kind": "inpatient", "region": "310104",
         "networked": True, "hospital_level": 3, "admission_date": "2025-03-01", "discharge_date": "2025-03-08"},
         "costs": {"total": 1000, "in_scope": 800}}
def timed(**how):
    start = time.perf_counter()
    Engine.load(root, **how).evaluate(claim)   # the first decision reads what a lazy load left for later
    return time.perf_counter() - start
print(timed(cache=True), timed(cache=True), timed())
"""


def run(engine_dir: pathlib.Path, args: list[str], cache: pathlib.Path, script: str | None = None) -> tuple[float, str]:
    """Wall time of one fresh process using the engine in `engine_dir`, and its standard output."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env |= {"PYTHONPATH": str(engine_dir), "XDG_CACHE_HOME": str(cache),
            "PYTHONPYCACHEPREFIX": str(cache.parent / f"bytecode-{engine_dir.parent.name}")}
    command = [sys.executable, "-c", script, *args] if script else [sys.executable, "-m", "yidi", *args]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode not in (0,):
        raise SystemExit(f"{command} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return took, done.stdout


def measure(engine_dir: pathlib.Path, tree: pathlib.Path, work: pathlib.Path, label: str) -> dict[str, float]:
    """The figures for one engine, each in fresh processes with a fresh cache folder."""
    cache = work / f"cache-{label}"
    shutil.rmtree(cache, ignore_errors=True)
    policies = ["--policies", str(tree)]
    run(engine_dir, ["--help"], work / "no-cache")     # the engine's bytecode, as an installed package has it
    out: dict[str, float] = {}
    print(f"  {label}: validate from nothing …", flush=True)
    out["validate, from nothing"], _ = run(engine_dir, ["validate", *policies], cache)
    out["validate, nothing changed"], _ = run(engine_dir, ["validate", *policies], cache)
    city = next(p for p in sorted(tree.rglob("policy.yaml")) if p.parent.name.startswith("c"))
    original = city.read_text(encoding="utf-8")
    try:
        city.write_text(re.sub(r"deductible: (\d+), ratio", lambda m: f"deductible: {int(m.group(1)) + 50}, ratio", original, count=1),
                        encoding="utf-8")
        out["validate, one city edited"], _ = run(engine_dir, ["validate", *policies], cache)
    finally:
        city.write_text(original, encoding="utf-8")
    run(engine_dir, ["validate", "--no-static", *policies], cache)  # the compiled cache of the tree as it is
    _, printed = run(engine_dir, [str(tree)], cache, LOAD)
    cold, cached, built = (float(x) for x in printed.split())
    out["load + first decision, from the compiled cache, new process"] = cold
    out["load + first decision, from the compiled cache, again in the process"] = cached
    out["load + first decision, without the cache (parse, check, compile every policy)"] = built
    print(f"  {label}: yidi test …", flush=True)
    out["`yidi test`, every case"], _ = run(engine_dir, ["test", *policies], cache)
    return out


def markdown(befores: dict[str, dict], after: dict, counts: dict, when: str, repeat: int) -> str:
    lines = [BEGIN, f"## (h) National scale: {counts['policies']} policies (measured {when})", "",
             f"A synthetic tree by `yidi.synth_tree` (the shipped tree, {counts['provinces']} provinces, {counts['cities']} cities; "
             f"{counts['cases']} test cases). Each figure is a fresh process with an empty cache folder at the start of the "
             "sequence; `python bench/scale.py --before REV` measures older revisions from git worktrees in the same run"
             + (f", the engines taking turns, best of {repeat} rounds" if repeat > 1 else "") + ". "
             f"Load average (1 min) when the run started: {counts['load']:.1f} on {os.cpu_count()} cores (other work on the machine "
             "slows every column, unevenly: compare the ratios, not the seconds).", ""]
    revs = list(befores)
    lines += ["| figure | " + " | ".join(f"{rev} s" for rev in revs) + (" | " if revs else "") + "after s"
              + "".join(f" | {rev} ÷ after" for rev in revs) + " |",
              "|---|" + "---:|" * (2 * len(revs) + 1)]
    for name, value in after.items():
        olds = [befores[rev].get(name) for rev in revs]
        cells = [f"{old:.3f}" if old else "–" for old in olds] + [f"{value:.3f}"]
        cells += [f"{old / value:.1f}" if old else "–" for old in olds]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines + ["", END])


def write_section(text: str) -> None:
    path = HERE / "results.md"
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    if BEGIN in current and END in current:
        current = current[:current.index(BEGIN)].rstrip("\n") + current[current.index(END) + len(END):]
    path.write_text(current.rstrip("\n") + "\n\n" + text + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV", action="append", default=[],
                        help="also measure this git revision (e.g. 96861b1) in the same run; may be given again")
    parser.add_argument("--cities", type=int, default=375)
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="measure every engine N times, best of N (default 1)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        work = pathlib.Path(temp)
        tree = work / "policies"
        counts = write_national_tree(tree, cities=args.cities)
        counts["policies"] = sum(1 for _ in tree.rglob("policy.yaml"))
        counts["cases"] = sum(len(re.findall(r"^  - name:", p.read_text(encoding="utf-8"), re.M)) for p in tree.rglob("tests/*.yaml"))
        counts["load"] = os.getloadavg()[0]
        engines = {}
        try:
            for rev in args.before:
                folder = work / f"before-{rev}"
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), rev], check=True, capture_output=True)
                engines[rev] = folder / "engine"
            engines["after"] = ROOT / "engine"
            best: dict[str, dict[str, float]] = {}
            for round_ in range(args.repeat):
                for label, engine_dir in engines.items():
                    found = measure(engine_dir, tree, work, label)
                    mine = best.setdefault(label, found)
                    for name, value in found.items():
                        mine[name] = min(mine[name], value)
        finally:
            for rev in args.before:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(work / f"before-{rev}")], check=False)
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    after = best.pop("after")
    text = markdown(best, after, counts, when, args.repeat)
    print(text)
    print(json.dumps({"machine": platform.machine(), "before": best, "after": after}, ensure_ascii=False))
    write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
