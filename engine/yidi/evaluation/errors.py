"""Errors raised while evaluating a valid document against a valid policy.

They mean the *policy* is contradictory or incomplete for this document (two
rules disagree, no rule gives an output a value) — never that the engine
guessed. A parameter with no value on the settlement date is not an error:
the outputs that need it are left undetermined (evaluation/undetermined.py). Each names the rules and
their file positions so an officer can fix the YAML.
"""

from __future__ import annotations


class EvaluationError(Exception):
    """A policy could not decide this document; `message_zh` says why."""

    code = "evaluation-error"

    def __init__(self, message_zh: str, message_en: str, rules: tuple[str, ...] = (), where: tuple[str, ...] = ()):
        self.message_zh = message_zh
        self.message_en = message_en
        self.rules = rules
        self.where = where
        super().__init__(message_en)

    def to_json(self) -> dict:
        return {"code": self.code, "message": self.message_zh, "message_en": self.message_en,
                "rules": list(self.rules), "where": list(self.where)}


class RuleConflict(EvaluationError):
    code = "rule-conflict"


class NoApplicableRule(EvaluationError):
    code = "no-applicable-rule"

