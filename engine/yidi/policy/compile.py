"""Compile a layered policy into one Python function per document kind.

Passes, in order — 1 and 2 in `check_program`, the rest in `generate_program`
(`policy.tree._compile` runs the second at load or when a policy first decides):

  1. check — every rule's `when` and `value` parsed and type-checked against
     the contract's input fields, the parameters and the variables
     (`CheckedRule`; a YAML literal value is a `LiteralValue`);
  2. order — variables in dependency order (`_order`);
  3. plan — per variable, how its rules become code (`VariablePlan`): no rule,
     a single unconditional rule, an if/elif chain where `policy/exclusive.py`
     proves at most one rule applies, or every condition evaluated with
     conflicts caught;
  4. emit — the plans written out by a `CodeWriter`, which keeps the line map
     from generated line to rule, as the body of a single generated function
     that `compile()` turns into bytecode once;
  5. link — the code bound to its runtime helpers (`_namespace`: conflict,
     missing, the undetermined values of policy/undetermined.py).

A claim is then decided by one call: no tree is walked per claim.

The generated source is deterministic and kept (`Program.source`) so it can
be read (`yidi explain-compiled`), and its line table maps a runtime error
back to the rule — and the YAML line — it came from.
"""

from __future__ import annotations

import collections
import datetime
import functools
import marshal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..diagnostics import Diagnostic
from ..dsl import functions as library
from ..dsl.checker import CheckedExpr, Environment, check
from ..dsl.compiler import ConstantPool, input_name, may_be_unknown, to_python, variable_name
from ..dsl.errors import ExpressionError
from ..dsl.types import BOOL, NUMBER, STRING, Type
from ..errors import NoApplicableRule, RuleConflict
from .undetermined import Undetermined, Unknown, UnknownRow
from .assemble import LayeredPolicy, rules_in_force
from .decision_model import BENEFIT_COLUMNS, BENEFIT_LOOKUP_READS, CLAIM, OUTPUTS, input_types, outputs_for

_OUTPUT_KINDS = {o.name: o.kind for o in OUTPUTS}
from .exclusive import chain_order
from .model import ExpressionText, Rule


@dataclass(frozen=True)
class Program:
    """The compiled decision logic of one policy for one document kind.

    Picklable for the on-disk cache: the function is stored as its code
    object (marshal) and constants, and linked again when unpickled.
    """

    kind: str
    policy_id: str
    rules: tuple[Rule, ...]                    # index in this tuple = index the code appends to the trace
    rule_params: tuple[frozenset[str], ...]    # parameters each rule reads (for provenance in the trace)
    variables: tuple[str, ...]                 # evaluation order
    input_paths: tuple[str, ...]
    source: str
    function: Any                              # evaluate(d, p, B, on) -> {variable: value, …, "@fired": bit i set if rule i fired,
                                               #   "@undetermined": None or {variable: (Cause, via)}}
    line_rules: Mapping[int, int]              # generated line → rule index
    rule_reads_benefit: tuple[bool, ...]       # which rules read the benefit table
    fire_order: tuple[int, ...]                # rule indices in the order the code fires them: the trace's order
    code: Any = None                           # the compiled module code
    constants: tuple = ()                      # values of K0, K1, …
    floors: tuple = ()                         # the floors checked ("@floors": bit k set if floor k is not met)
    floor_reads: tuple[frozenset[str], ...] = ()  # the variables each floor's `holds` reads (the rules to point at)
    document_reads: tuple[str, ...] = ()       # every key `function` may read of its document (see `_generate`)

    def rules_touched(self, touched) -> set[int]:
        """The rules that met an undetermined value, from the offsets the code left in "@touched".

        Computing a line number from an offset walks the line table, which is
        slow in a function this size: that is done here, for the static checks,
        never while deciding.
        """
        found: set[int] = set()
        if touched is None:  # the usual case: no rule met an undetermined value (and hashing the code is not cheap)
            return found
        lines = _offset_lines(self.function.__code__)
        while touched is not None:
            offset, touched = touched
            line = lines.get(offset)
            if line in self.line_rules:
                found.add(self.line_rules[line])
        return found

    def __reduce__(self):
        fields = {f: getattr(self, f) for f in self.__dataclass_fields__ if f not in ("function", "code")}
        return (_restore_program, (fields, marshal.dumps(self.code)))


def _restore_program(fields: dict, code_bytes: bytes) -> Program:
    code = marshal.loads(code_bytes)
    return Program(function=_link(code, fields["constants"], fields["rules"], fields["line_rules"]), code=code, **fields)


def _link(code, constants, rules, line_rules):
    namespace = _namespace(constants, rules, line_rules)
    exec(code, namespace)  # noqa: S102 — our own generated code, built from checked ASTs only
    return namespace["evaluate"]


@dataclass(frozen=True)
class LiteralValue:
    """A rule's value written as a YAML literal (or a bare enumeration word): nothing to check or compile."""

    value: Any


class CheckedRule(NamedTuple):
    """A rule after the check pass: its condition (None: always) and its value."""

    when: CheckedExpr | None
    value: CheckedExpr | LiteralValue | None


@dataclass(frozen=True)
class VariablePlan:
    """How the code decides one variable (the plan pass).

    `shape`: "none" (no rule: the output's default, else a policy defect at run
    time), "single" (one unconditional rule: an assignment), "chain" (proven
    exclusive: an if/elif in `rules` order that stops at the first rule that
    applies), or "checked" (every condition evaluated, a conflict caught).
    """

    name: str
    shape: str
    rules: tuple[int, ...]
    guarded: bool        # may meet an undetermined value: its rules run inside try
    reads_unknown: bool  # may hand on another variable's value unchanged: re-checked for Unknown


@dataclass(frozen=True)
class _EveryValue:
    """All values a parameter takes at any level and date: what the exclusivity proof must cover."""

    values: tuple


@dataclass(frozen=True)
class CheckedProgram:
    """One policy's rules for one kind after the check pass: every problem found, no code written yet.

    What `generate_program` needs; a load without the cache keeps these and
    writes each policy's code when it first decides (`tree._compile`).
    """

    layered: LayeredPolicy
    kind: str
    rules: tuple[Rule, ...]
    checked: tuple[CheckedRule, ...]
    floors: tuple
    checked_floors: tuple
    order: tuple[str, ...]


def check_program(layered: LayeredPolicy, kind: str, problems: list[Diagnostic],
                  inactive: frozenset[str] = frozenset()) -> CheckedProgram | None:
    """Check `layered` for `kind`: names, types, rule counts and the variables' order; diagnostics appended to
    `problems`, None on any error. `inactive`: policies of the chain whose rules (and variables) are not yet in
    force for the dates this program serves (their `in_force` is later)."""
    outputs = outputs_for(kind)
    variables: dict[str, Type] = {name: o.type for name, o in outputs.items()}
    for var in layered.variables.values():
        if var.for_kind == kind and var.policy_id not in inactive:
            variables[var.name] = var.type
    inputs = input_types(kind)
    params = {name: p.type for name, p in layered.parameters.items()}
    env = Environment(
        inputs=inputs,
        params=params,
        variables=variables,
        benefit=BENEFIT_COLUMNS if kind == CLAIM else {},
        key=_environment_key((kind, frozenset(params.items()), frozenset(variables.items()))),
    )
    all_variable_kinds = _OUTPUT_KINDS | {v.name: v.for_kind for v in layered.variables.values()}
    rules = [r for r in rules_in_force(layered, inactive) if all_variable_kinds.get(r.sets) == kind]
    before = len(problems)
    _limit_rules_per_variable(rules, problems)
    for rule in layered.rules:
        if rule.sets not in all_variable_kinds:
            problems.append(_at(rule.position, "unknown-variable", f"规则设置的变量 “{rule.sets}” 不存在",
                                f"the rule sets an unknown variable {rule.sets!r}",
                                "可设置：" + "、".join(list(_OUTPUT_KINDS) + list(layered.variables)), None))

    checked: list[CheckedRule] = []
    for rule in rules:
        when = _check_expr(rule.when, env, _BOOL, problems) if rule.when is not None else None
        value = _check_value(rule, env, variables[rule.sets], problems, when.node if when is not None else None)
        checked.append(CheckedRule(when, value))
    floors = tuple(f for f in layered.floors if f.for_kind == kind)
    checked_floors = []
    for floor in floors:
        when = _check_expr(floor.when, env, _BOOL, problems) if floor.when is not None else None
        holds = _check_expr(floor.holds, env, _BOOL, problems, when.node if when is not None else None)
        checked_floors.append((when, holds))
    if len(problems) > before:
        return None
    order = _order(rules, checked, variables, outputs, layered, problems)
    if order is None:
        return None
    return CheckedProgram(layered, kind, tuple(rules), tuple(checked), floors, tuple(checked_floors), tuple(order))


def generate_program(program: CheckedProgram, problems: list[Diagnostic]) -> Program | None:
    """The plan and emit passes, and Python's compiler: the program of a checked policy (None, with a
    diagnostic, only if Python cannot compile it — beyond its limits despite ours)."""
    layered, kind, rules, checked, order = program.layered, program.kind, list(program.rules), program.checked, program.order
    outputs, inputs = outputs_for(kind), input_types(kind)
    every_value = {name: _EveryValue(tuple(v for d in definitions for v in d.values))
                   for name, definitions in layered.inherited_parameters.items()}
    plans = [_plan(name, rules, checked, every_value) for name in order]
    source, pool, line_rules, fire_order, document_reads = _generate(kind, rules, checked, plans, outputs, inputs,
                                                                     program.checked_floors)
    try:
        code = _bytecode(source, f"<yidi:{layered.policy.id}:{kind}>")
    except (SyntaxError, RecursionError, MemoryError, ValueError) as exc:  # beyond Python's own limits despite ours
        problems.append(_at(layered.policy.position, "policy-too-complex",
                            f"政策过于复杂，无法编译（{type(exc).__name__}）：请减少规则数量或拆分表达式",
                            f"the policy is too complex to compile ({type(exc).__name__}: {exc})"))
        return None
    constants = tuple(pool.values)
    params_used = tuple(
        frozenset().union(*(c.params_used for c in pair if isinstance(c, CheckedExpr))) for pair in checked
    )
    reads_benefit = tuple(any(isinstance(c, CheckedExpr) and _reads_benefit(c) for c in pair) for pair in checked)
    return Program(kind=kind, policy_id=layered.policy.id, rules=tuple(rules), rule_params=params_used, variables=tuple(order),
                   input_paths=tuple(inputs), source=source, function=_link(code, constants, tuple(rules), line_rules),
                   line_rules=line_rules, rule_reads_benefit=reads_benefit, fire_order=fire_order, code=code, constants=constants,
                   floors=program.floors, floor_reads=tuple(frozenset(holds.variables_used) for _, holds in program.checked_floors),
                   document_reads=document_reads)


MAX_RULES_PER_VARIABLE = 200
"""Most rules one variable may have in a policy with everything it inherits (the shipped policies have at most 14).

Each is a branch of one `if … elif …` chain in the generated code, which
Python's compiler nests one level per branch; the proofs that rules
exclude each other also grow with the square of their number."""


def _limit_rules_per_variable(rules: list[Rule], problems: list[Diagnostic]) -> None:
    counts: collections.Counter[str] = collections.Counter()
    for rule in rules:
        counts[rule.sets] += 1
        if counts[rule.sets] == MAX_RULES_PER_VARIABLE + 1:
            problems.append(_at(rule.position, "too-many-rules",
                                f"变量 {rule.sets} 的规则超过 {MAX_RULES_PER_VARIABLE} 条（含上级政策的规则）",
                                f"variable {rule.sets} has more than {MAX_RULES_PER_VARIABLE} rules (inherited ones included)",
                                "把取值列成参数（list）并用 in 判断，或拆成几个中间变量",
                                "put the values in a list parameter and test with `in`, or split into variables"))


def _at(position, code, zh, en, help_zh=None, help_en=None) -> Diagnostic:
    return Diagnostic(code, zh, en, position.file, position.line, position.column, help_zh=help_zh, help_en=help_en)


@functools.lru_cache(maxsize=512)
def _bytecode_of(source: str):
    return compile(source, "<yidi>", "exec")


def _bytecode(source: str, filename: str):
    """`compile(source, filename, "exec")`, compiling each distinct source once: policies written from one model
    generate the same source (their values are constants linked in), and compiling is a third of building them."""
    return _renamed(_bytecode_of(source), filename)


def _renamed(code, filename: str):
    consts = tuple(_renamed(c, filename) if isinstance(c, type(code)) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


_BOOL = Type(BOOL)

# One object per distinct environment key: a `_CHECKED` key then matches by identity, where comparing two equal
# keys compares their sets of names and types item by item (700,000 comparisons for a 400-policy tree).
_ENVIRONMENT_KEYS: dict[tuple, tuple] = {}


def _environment_key(key: tuple) -> tuple:
    if len(_ENVIRONMENT_KEYS) >= _CHECKED_AT_MOST:
        _ENVIRONMENT_KEYS.clear()
    return _ENVIRONMENT_KEYS.setdefault(key, key)


# Checked expressions by (parsed node, environment, expected type, assumption): cities written from one model
# share most expressions and all their names, and a tree of 400 policies checks each only once. An entry keeps
# its node and assumption alive, so the ids in its key stay theirs (`parse` returns one node per text).
_CHECKED: dict[tuple, tuple[CheckedExpr, Any, Any]] = {}
_CHECKED_AT_MOST = 50_000


def _check_expr(expr: ExpressionText, env: Environment, expected: Type, problems: list[Diagnostic], assume=None) -> CheckedExpr | None:
    from ..dsl.parser import parse  # Lark is needed only when a policy is built, not when read from the cache

    try:
        node = parse(expr.text)
        key = (id(node), env.key, expected, id(assume)) if env.key is not None else None
        found = _CHECKED.get(key) if key is not None else None
        if found is not None:
            return found[0]
        checked = check(node, env, expected, assume)
        if key is not None:
            if len(_CHECKED) >= _CHECKED_AT_MOST:
                _CHECKED.clear()
            _CHECKED[key] = (checked, node, assume)
        return checked
    except ExpressionError as exc:
        for p in exc.problems:
            where = expr.locate(p.start)
            problems.append(Diagnostic(p.code, p.message_zh, p.message_en, where.file, where.line, where.column,
                                       help_zh=p.help_zh, help_en=p.help_en))
        return None


def _check_value(rule: Rule, env: Environment, target: Type, problems: list[Diagnostic], assume=None):
    value = rule.value
    if not value.is_literal and target.enum is not None and value.text.strip() in target.enum:
        return LiteralValue(value.text.strip())  # an enum word written bare: `value: emergency`
    if not value.is_literal:
        return _check_expr(value, env, target, problems, assume)
    literal = value.literal
    ok = (
        (literal is None and target.optional)
        or (isinstance(literal, bool) and target.kind == BOOL)
        or (isinstance(literal, Decimal) and not isinstance(literal, bool) and target.kind == NUMBER)
        or (isinstance(literal, str) and target.kind == STRING and (target.enum is None or literal in target.enum))
    )
    if not ok:
        allowed = f"；允许：{'、'.join(sorted(target.enum))}" if target.enum else ""
        problems.append(_at(value.position, "wrong-type", f"取值 {literal!r} 不适合变量 {rule.sets}（{target.zh()}）{allowed}",
                            f"value {literal!r} does not fit variable {rule.sets} ({target.en()})"))
        return None
    return LiteralValue(literal)


def _reads_benefit(c: CheckedExpr) -> bool:
    return any(ref.kind == "benefit" for ref in c.refs.values())


def _order(rules, checked, variables, outputs, layered, problems) -> list[str] | None:
    """Variables in dependency order.

    Depth-first from the contract's outputs in their declared order, each
    variable after what it reads: the trace then reads top to bottom like the
    decision itself (scope, filing status, treatment, route, amounts).
    """
    needs: dict[str, list[str]] = {name: [] for name in variables}
    for rule, pair in zip(rules, checked):
        for c in pair:
            if isinstance(c, CheckedExpr):
                for used in sorted(c.variables_used, key=list(variables).index):
                    if used not in needs[rule.sets]:
                        needs[rule.sets].append(used)
                if _reads_benefit(c) and "benefit_care" not in needs[rule.sets]:
                    needs[rule.sets].append("benefit_care")
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> bool:
        if state.get(name) == "done":
            return True
        if state.get(name) == "active":
            cycle = path[path.index(name):] + [name]
            culprit = next((r for r in rules if r.sets == name), None)
            where = culprit.position if culprit else layered.policy.position
            problems.append(_at(where, "dependency-cycle", f"变量互相依赖形成循环：{' → '.join(cycle)}",
                                f"variables depend on each other in a cycle: {' -> '.join(cycle)}"))
            return False
        state[name] = "active"
        for dep in needs[name]:
            if not visit(dep, [*path, name]):
                return False
        state[name] = "done"
        order.append(name)
        return True

    for name in variables:
        if not visit(name, []):
            return None
    return order


def _plan(name: str, rules, checked, params) -> VariablePlan:
    """The plan pass for one variable: its shape, and whether it may meet or hand on an undetermined value."""
    indices = [i for i, rule in enumerate(rules) if rule.sets == name]
    ids = {rule.id: i for i, rule in enumerate(rules)}
    unconditional = {i for i in indices if rules[i].when is None and rules[i].effective_from is None and rules[i].effective_until is None}
    chain = None
    if indices:
        whens = [c.when.node if c.when is not None else None for c in checked]
        chain = chain_order(indices, rules, whens, _exceptions(indices, rules, ids), params)
    if not indices:
        shape, order = "none", ()
    elif len(indices) == 1 and indices[0] in unconditional:
        shape, order = "single", tuple(indices)
    elif chain is not None:
        shape, order = "chain", tuple(chain)
    else:
        shape, order = "checked", tuple(indices)
    guarded = name == "benefit_care" or any(  # only what reads a parameter, a variable or the table can be undetermined
        isinstance(c, CheckedExpr) and any(ref.kind in ("param", "var", "benefit") for ref in c.refs.values())
        for i in indices for c in checked[i])
    reads_unknown = any(_may_pass_unknown(checked[i].value) for i in indices)
    return VariablePlan(name, shape, order, guarded, reads_unknown)


class CodeWriter:
    """Lines of the generated function, at an indent, with the map from generated line to rule index."""

    def __init__(self, header: list[str]):
        self.lines = list(header)
        self.line_rules: dict[int, int] = {}
        self.indent = "    "

    def emit(self, text: str, rule_index: int | None = None) -> None:
        self.lines.append(self.indent + text)
        if rule_index is not None:
            self.line_rules[len(self.lines)] = rule_index


def _generate(kind, rules, checked, plans, outputs, inputs, floors=()):
    """The emit pass: write the policy's function from the variables' plans.

    Per variable, Catala-style: each rule's condition, then the choice.
    Cheap shapes get cheap code: a variable set by one unconditional rule is a
    plain assignment, the first candidate cannot conflict with an earlier one,
    and literal values are compared directly.

    Each variable's rules run inside `try` (when the plan says it may meet an
    undetermined value): reading a parameter with no value in force, a
    missing benefit table, or an undetermined variable raises `Undetermined`,
    and the variable becomes an `Unknown` (its fired bits are cleared and it
    is noted in `u`, returned as "@undetermined"). Which rule met the gap
    depends on the order conditions are evaluated (chains stop early), so it
    stays out of the answer: "@touched" keeps the instruction offsets for the
    static checks (`Program.rules_touched`), which count such a rule as taking
    effect.

    The function reads its document `d` only at its top (each input the rules
    read, once) and in the benefit-table lookup `B(d, …)`: those keys, returned
    last, are every key it can read (`Program.document_reads`, which the static
    checks use to skip situations; tests/test_situation_memo.py holds it to
    the keys a recording document sees read).
    """
    pool = ConstantPool()
    out = CodeWriter(["def evaluate(d, p, B, on):", "    m = 0", "    t = None", "    u = None"])
    fire_order: list[int] = []  # rule indices in the order the code can fire them
    ids = {rule.id: i for i, rule in enumerate(rules)}
    read = {ref.name for pair in checked for c in pair if isinstance(c, CheckedExpr)
            for ref in c.refs.values() if ref.kind == "input"}
    document_reads = [path for path in inputs if path in read]
    for path in document_reads:  # each input the rules read, once, in the contract's order
        out.lines.append(f"    {input_name(path)} = d[{path!r}]")
    for plan in plans:
        _emit_variable(out, plan, kind, rules, checked, outputs, ids, pool, fire_order)
    emit = out.emit
    emit("f = 0")  # floors: a floor that cannot be checked (undetermined) is not reported as broken
    for k, (when, holds) in enumerate(floors):
        test = f"not {to_python(holds, pool)}" if when is None else f"{to_python(when, pool)} and not {to_python(holds, pool)}"
        emit("try:")
        emit(f"    if {test}: f |= {1 << k}")
        emit("except Undetermined: pass")
    returned = ", ".join(f"{plan.name!r}: {variable_name(plan.name)}" for plan in plans)
    if kind == CLAIM and any(plan.name == "benefit_care" for plan in plans):
        returned += ", '@benefit': b"
    emit(f"return {{{returned}, '@fired': m, '@undetermined': u, '@floors': f, '@touched': t}}")
    source = "\n".join(out.lines) + "\n"
    if kind == CLAIM and any(plan.name == "benefit_care" for plan in plans):   # `b = B(d, …)`: the lookup reads d too
        document_reads += [path for path in BENEFIT_LOOKUP_READS if path not in document_reads]
    return source, pool, out.line_rules, tuple(fire_order), tuple(document_reads)


def _emit_variable(out: CodeWriter, plan: VariablePlan, kind, rules, checked, outputs, ids, pool: ConstantPool,
                   fire_order: list[int]) -> None:
    """One variable's code, as its plan says (the order of constants in `pool` is the order they are met here)."""
    name, emit = plan.name, out.emit
    local = variable_name(name)
    indices = [i for i, rule in enumerate(rules) if rule.sets == name]
    emit("# " + name.encode("unicode_escape").decode("ascii"))  # a name can never end the comment
    output = outputs.get(name)
    fallback = (f"{local} = {_literal_code(output.default, pool)}" if output is not None and output.has_default
                else f"missing({name!r})")
    conditions = {i: _condition_code(rules[i], checked[i].when, pool) for i in indices}
    if plan.guarded:
        emit("try:")
        out.indent = "        "
    if plan.shape == "single":
        i = plan.rules[0]
        emit(f"{local} = {_value_code(checked[i].value, pool)}; m |= 1 << {i}", i)
        fire_order.append(i)
    elif plan.shape == "none":
        emit(fallback)
    elif plan.shape == "chain":  # proven: at most one rule applies, so the first that does decides
        for position, i in enumerate(plan.rules):
            if conditions[i] is None:  # overridden by all before it: it applies when none of them does
                emit("else:" if position else "if True:", i)
            else:
                emit(f"{'elif' if position else 'if'} {conditions[i]}:", i)
            emit(f"    {local} = {_value_code(checked[i].value, pool)}; m |= 1 << {i}", i)
            fire_order.append(i)
            if conditions[i] is None:
                break
        else:
            emit(f"else: {fallback}")
    else:  # checked: every condition evaluated; two rules that apply and disagree are a conflict
        exceptions = _exceptions(indices, rules, ids)
        for i in indices:
            if conditions[i] is not None:
                emit(f"c{i} = {conditions[i]}", i)
        emit("w = -1")
        for position, i in enumerate(indices):
            tests = [] if conditions[i] is None else [f"c{i}"]
            blockers = [f"c{j}" if conditions[j] is not None else "True" for j in sorted(exceptions[i])]
            if blockers:
                tests.append(f"not ({' or '.join(blockers)})")
            emit(f"if {' and '.join(tests) or 'True'}:", i)
            value = _value_code(checked[i].value, pool)
            if position == 0:
                emit(f"    {local} = {value}; w = {i}; m |= 1 << {i}", i)
            else:
                emit(f"    x = {value}", i)
                emit(f"    if w >= 0 and x != {local}: conflict({name!r}, w, {i}, {local}, x)", i)
                emit(f"    {local} = x; w = {i}; m |= 1 << {i}", i)
            fire_order.append(i)
        emit(f"if w < 0: {fallback}")
    if plan.reads_unknown:  # a value passed on unchanged (`value: other_variable`, coalesce, latest) may be an Unknown
        emit(f"if {local}.__class__ is U: raise {local}.error()")
    if name == "benefit_care" and kind == CLAIM:
        emit(f"b = B(d, {local})")
    if plan.guarded:
        out.indent = "    "
        mask = sum(1 << i for i in indices)
        emit("except Undetermined as e:")  # no rule of it fired; which one met the gap goes to `t`, for the static checks
        # where it was met: only the instruction offset (cheap); `Program.rules_touched` maps it to a rule
        emit(f"    {local} = U(e.cause, {name!r}); m &= {~mask}; t = (e.__traceback__.tb_lasti, t)")
        emit(f"    u = {{}} if u is None else u; u[{name!r}] = (e.cause, e.via)")
        if name == "benefit_care" and kind == CLAIM:
            emit("    b = UR(e.cause)")


def _may_pass_unknown(value) -> bool:
    """Can this rule value hand on another variable's value unchanged (so an Unknown without raising)?"""
    return isinstance(value, CheckedExpr) and may_be_unknown(value.refs, value.node)


def _condition_code(rule: Rule, when, pool: ConstantPool) -> str | None:
    """Python for "this rule applies", or None when it always does."""
    parts = []
    if rule.effective_from is not None:
        parts.append(f"{pool.name(rule.effective_from)} <= on")
    if rule.effective_until is not None:
        parts.append(f"on < {pool.name(rule.effective_until)}")
    if when is not None:
        parts.append(to_python(when, pool))
    return " and ".join(parts) if parts else None


def _exceptions(indices: list[int], rules, ids) -> dict[int, set[int]]:
    """For each rule, every rule (same variable) that overrides it, directly or not."""
    direct: dict[int, set[int]] = {i: set() for i in indices}
    sweeping = [i for i in indices if "*" in rules[i].overrides]
    for i in indices:
        if i not in sweeping:
            direct[i].update(sweeping)  # `overrides: ["*"]` wins over every other rule of the variable
        for target in rules[i].overrides:
            j = ids.get(target)
            if j is not None and j in direct:
                direct[j].add(i)
    closed: dict[int, set[int]] = {}
    for i in indices:
        seen: set[int] = set()
        stack = list(direct[i])
        while stack:
            k = stack.pop()
            if k not in seen:
                seen.add(k)
                stack.extend(direct[k])
        closed[i] = seen
    return closed


def _value_code(value, pool: ConstantPool) -> str:
    if isinstance(value, LiteralValue):
        return _literal_code(value.value, pool)
    return to_python(value, pool)


def _literal_code(value, pool: ConstantPool) -> str:
    if value is None or isinstance(value, bool | str):
        return repr(value)
    if isinstance(value, Decimal | datetime.date | tuple):
        return pool.name(value)
    return pool.name(Decimal(str(value)))


def _namespace(constants, rules, line_rules) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__builtins__": {}, "Decimal": Decimal, "HALF_UP": ROUND_HALF_UP,
                                 "Undetermined": Undetermined, "U": Unknown, "UR": UnknownRow}
    for i, value in enumerate(constants):
        namespace[f"K{i}"] = value
    for name, function in library.FUNCTIONS.items():
        namespace[f"f_{name}"] = function.run

    def conflict(variable, first, second, a, b):
        ra, rb = rules[first], rules[second]
        raise RuleConflict(
            f"规则冲突：{ra.id}（{ra.position.file}:{ra.position.line}）与 {rb.id}（{rb.position.file}:{rb.position.line}）"
            f"同时适用，给 {variable} 的取值不同（{a} 与 {b}），且互不为例外（overrides）",
            f"conflict: {ra.id} and {rb.id} both apply and give {variable} different values ({a} vs {b}) without one overriding the other",
            (ra.id, rb.id), (f"{ra.position.file}:{ra.position.line}", f"{rb.position.file}:{rb.position.line}"),
        )

    def missing(variable):
        raise NoApplicableRule(
            f"没有规则为 {variable} 给出取值：政策对这种情况没有规定",
            f"no rule gives {variable} a value: the policy does not cover this case",
        )

    namespace["conflict"] = conflict
    namespace["missing"] = missing
    return namespace


@functools.lru_cache(maxsize=256)
def _offset_lines(code) -> dict[int, int]:
    """Instruction offset → source line of a code object (one dict look-up per offset, not a walk of the table)."""
    return {offset: line for start, end, line in code.co_lines() if line is not None for offset in range(start, end, 2)}
