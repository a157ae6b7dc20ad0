"""What a safer on-disk cache format would cost (issue 11, item 12; docs/security.md).

    python bench/cache_formats.py [--repeats 15]

Measures, for the shipped policy tree:

(1) `Engine.load(cache=…)` from the cache in a fresh process — what a CLI
    call or a worker pays (the checked, digest-verified pickle);
(2) inside that, `pickle.loads` of the compiled set alone;
(3) the floor of a cache that stores only data and rebuilds the code from it
    (the only kind that cannot run code from the file): type-checking every
    expression, writing and compiling the Python again — with YAML, schemas
    and the expression parser already done, and no time counted for decoding
    the data itself;
(4) of that, Python's `compile()` of the generated sources alone (a cache
    storing the source text would still run code from the file, and pays this);
(5) the expression parser's cache: Lark's pickle against the MessagePack data
    yidi now stores.

Prints a Markdown table. No test asserts a time; this is where times live.
"""

from __future__ import annotations

import argparse
import io
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "engine"))
POLICIES = ROOT / "policies"

_TIMED_LOAD = (
    "import sys, time; sys.path.insert(0, {engine!r}); from yidi import Engine; "
    "t = time.perf_counter(); Engine.load({policies!r}, cache={cache!r}); print(time.perf_counter() - t)"
)


def median_ms(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def cached_load_in_a_fresh_process(repeats: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        code = _TIMED_LOAD.format(engine=str(ROOT / "engine"), policies=str(POLICIES), cache=folder)

        def once() -> float:
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            return float(done.stdout.strip())

        once()  # writes the entry
        return statistics.median(once() for _ in range(repeats)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    repeats = parser.parse_args().repeats

    import lark

    from yidi import Engine
    from yidi.dsl import checker, lark_parser
    from yidi.policy.compile import compile_policy
    from yidi.policy.decision_model import KINDS

    policies = Engine.load(POLICIES).policies
    blob = pickle.dumps(policies, protocol=pickle.HIGHEST_PROTOCOL)

    def rebuild_code() -> None:
        checker._REUSE.clear()  # as a new process: no earlier checks to reuse
        for compiled in policies.policies.values():
            for kind in KINDS:
                compile_policy(compiled.layered, kind, [])

    def compile_sources() -> None:
        for compiled in policies.policies.values():
            for program in compiled.programs.values():
                compile(program.source, "<bench>", "exec")

    built = lark.Lark(lark_parser._GRAMMAR.read_text(encoding="utf-8"), **lark_parser._OPTIONS)
    lark_pickle = io.BytesIO()
    built.save(lark_pickle)
    lark_data = lark_parser._to_data(built)

    rows = [
        ("(1) Engine.load from the cache, fresh process (pickle, checked and digest-verified)", cached_load_in_a_fresh_process(repeats)),
        (f"(2) of which pickle.loads of the compiled set ({len(blob) / 1e6:.2f} MB)", median_ms(lambda: pickle.loads(blob), repeats)),
        ("(3) floor of a data-only cache: check, write and compile the code again", median_ms(rebuild_code, max(3, repeats // 3))),
        ("(4) of which compile() of the generated sources", median_ms(compile_sources, repeats)),
        (f"(5a) expression parser from Lark's pickle ({len(lark_pickle.getvalue()) / 1e3:.0f} kB)",
         median_ms(lambda: lark.Lark.load(io.BytesIO(lark_pickle.getvalue())), repeats)),
        (f"(5b) expression parser from MessagePack data, as yidi keeps it ({len(lark_data) / 1e3:.0f} kB)",
         median_ms(lambda: lark_parser._from_data(lark_data), repeats)),
    ]
    print(f"Python {sys.version.split()[0]}, median of {repeats}\n")
    print("| step | ms |\n|---|---:|")
    for label, ms in rows:
        print(f"| {label} | {ms:.1f} |")


if __name__ == "__main__":
    main()
