"""Every error the engine raises about a document, and the one way each becomes JSON.

Two kinds, and nothing else reaches a caller from deciding a document:

  - `InputError`: the document is not valid input (contract §4); it lists
    every problem by JSON path. Nothing was decided.
  - `EvaluationError`: a valid document that the *policy* cannot decide — two
    rules disagree (`RuleConflict`), or no rule gives an output a value
    (`NoApplicableRule`). Never that the engine guessed; a parameter with no
    value in force is not an error but leaves outputs undetermined
    (policy/undetermined.py). It names the rules and their file positions so
    an officer can fix the YAML.

`error_body(exc)` is the JSON every interface writes for either — the CLI's
`--format json`, batch error files, `Engine.evaluate_many` and the HTTP API:
`{"error": <code>, …}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SHOWN_PROBLEMS = 100
"""Problems listed in an error body; the rest are counted (`problems_omitted`), so a hostile
document cannot make an error body many times its own size."""
@dataclass(frozen=True)
class InputProblem:
    """One thing wrong with an input document, at a JSON path such as `history[0].cancelled_on`."""

    path: str
    message_zh: str
    message_en: str


class InputError(Exception):
    """The document cannot be evaluated; `problems` lists its problems, sorted by path.

    `more` counts problems found but not written out (beyond FOUND_LIMIT, or
    unknown keys past the first ones); `omitted` is everything not shown in
    an error body. Both are 0 for any document a person wrote by mistake.
    """

    code = "invalid-input"

    def __init__(self, problems: Iterable[InputProblem], more: int = 0):
        self.problems: list[InputProblem] = sorted(set(problems), key=_problem_order)
        self.more = more
        super().__init__(self.render("zh"))

    @property
    def shown(self) -> list[InputProblem]:
        """The problems an error body lists: the first SHOWN_PROBLEMS by path."""
        return self.problems[:SHOWN_PROBLEMS]

    @property
    def omitted(self) -> int:
        """How many problems an error body leaves out (a lower bound once the validator stopped looking)."""
        return len(self.problems) - len(self.shown) + self.more

    def render(self, lang: str = "zh") -> str:
        total = len(self.problems) + self.more
        head = f"输入文档有 {total} 处问题：" if lang == "zh" else f"the input has {total} problem(s):"
        lines = [head]
        for p in self.shown:
            where = p.path or ("（文档）" if lang == "zh" else "(document)")
            lines.append(f"  {where}: {p.message_zh if lang == 'zh' else p.message_en}")
        if self.omitted:
            lines.append(f"  ……另有 {self.omitted} 处问题未列出" if lang == "zh" else f"  … and {self.omitted} more not listed")
        return "\n".join(lines)

    def __reduce__(self):  # keep the problems, not just the rendered text, across pickling
        return type(self), (self.problems, self.more)

    def problems_json(self) -> list[dict[str, str]]:
        """The shown problems as {"path", "message", "message_en"}: how every JSON output (CLI, batch, HTTP) lists them."""
        return [{"path": p.path, "message": p.message_zh, "message_en": p.message_en} for p in self.shown]

    def body(self, error: str = "invalid-input") -> dict[str, Any]:
        """`{"error", "problems", "problems_omitted"?}`: every JSON error output (CLI, batch, HTTP 400/422) is this."""
        out: dict[str, Any] = {"error": error, "problems": self.problems_json()}
        if self.omitted:
            out["problems_omitted"] = self.omitted
        return out



def _problem_order(problem: InputProblem) -> tuple:
    """By path, list indices numerically (`history[2]` before `history[10]`), a parent before its fields."""
    parts = re.findall(r"\[(\d+)\]|([^.\[\]]+)", problem.path)
    key = tuple((0, int(index), "") if index else (1, 0, name) for index, name in parts)
    return key, problem.message_zh, problem.message_en


class EvaluationError(Exception):
    """A policy could not decide this document; `message_zh` says why."""

    code = "evaluation-error"

    def __init__(self, message_zh: str, message_en: str, rules: tuple[str, ...] = (), where: tuple[str, ...] = ()):
        self.message_zh = message_zh
        self.message_en = message_en
        self.rules = rules
        self.where = where
        super().__init__(message_en)


class RuleConflict(EvaluationError):
    code = "rule-conflict"


class NoApplicableRule(EvaluationError):
    code = "no-applicable-rule"


class PolicyTooComplex(EvaluationError):
    """Python could not compile the code of a policy whose code is generated on first use (`Engine.load`
    without the cache): found when it first decides, not at load. `yidi validate` generates every policy's
    code while loading, so it reports the policy there."""

    code = "policy-too-complex"


def error_body(exc: InputError | EvaluationError) -> dict[str, Any]:
    """The JSON body of an error, the same on every interface (CLI, batch, Engine.evaluate_many, HTTP)."""
    if isinstance(exc, InputError):
        return exc.body()
    return {"error": exc.code, "message": exc.message_zh, "message_en": exc.message_en,
            "rules": list(exc.rules), "where": list(exc.where)}
