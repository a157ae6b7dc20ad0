"""yidi — a declarative policy engine for cross-region direct settlement of basic medical insurance.

Pipeline, one module each: YAML with positions (source) → schema check
(schema_check) → policy model (policy.loader) → layered policy
(policy.assemble) → typed, compiled expressions (dsl, policy.compile) →
evaluation (evaluation) → decision with trace.
"""

from .diagnostics import Diagnostic, DiagnosticError
from .engine import Engine
from .errors import EvaluationError, InputError, InputProblem

__all__ = ["Diagnostic", "DiagnosticError", "Engine", "EvaluationError", "InputError", "InputProblem"]
__version__ = "0.1.0"
