"""Layer policies: national → province → city.

A child sees its parent's parameters, variables, rules and benefit tables.
It may give new values for a parameter (same type, inside the parent's
bounds), replace a rule by reusing its id, override rules through
`overrides:`, and add benefit tables that take precedence over its parent's.
Everything that breaks these rules is a diagnostic with a file position.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..diagnostics import Diagnostic
from ..source import Position
from .decision_model import OUTPUTS, input_types
from .model import BenefitTable, Floor, Parameter, Policy, Rule, Variable


@dataclass(frozen=True)
class LayeredPolicy:
    """One policy with everything it inherits, ready to compile."""

    policy: Policy
    chain: tuple[Policy, ...]                 # national first, this policy last
    parameters: Mapping[str, Parameter]       # most specific definition of each
    inherited_parameters: Mapping[str, tuple[Parameter, ...]]  # every definition, national first
    variables: Mapping[str, Variable]
    rules: tuple[Rule, ...]
    benefits: tuple[BenefitTable, ...]        # most specific first
    floors: tuple[Floor, ...] = ()            # set above or here; a lower level cannot remove one

    @property
    def summaries(self) -> Mapping[str, str]:
        """Documents of the chain that are summaries (a press Q&A, not the text), each with what it is."""
        return {doc.id: doc.nature_note or "" for policy in self.chain for doc in policy.documents if doc.nature == "summary"}

    @property
    def documents(self) -> tuple[str, ...]:
        seen: list[str] = []
        for policy in reversed(self.chain):
            for doc in policy.documents:
                if doc.id not in seen:
                    seen.append(doc.id)
        return tuple(seen)


def _diag(code: str, zh: str, en: str, at: Position, help_zh: str | None = None, help_en: str | None = None) -> Diagnostic:
    return Diagnostic(code, zh, en, at.file, at.line, at.column, help_zh=help_zh, help_en=help_en)


def chain_of(policy: Policy, by_id: Mapping[str, Policy], problems: list[Diagnostic]) -> tuple[Policy, ...] | None:
    chain = [policy]
    seen = {policy.id}
    current = policy
    while current.extends is not None:
        parent = by_id.get(current.extends)
        at = current.extends_position or current.position
        if parent is None:
            problems.append(_diag("unknown-parent", f"上级政策 “{current.extends}” 不存在", f"parent policy {current.extends!r} does not exist", at,
                                  "可用：" + "、".join(sorted(by_id)), "available: " + ", ".join(sorted(by_id))))
            return None
        if parent.id in seen:
            problems.append(_diag("extends-cycle", f"上级政策形成循环：{' → '.join(p.id for p in chain)} → {parent.id}",
                                  f"policies extend each other in a cycle: {' -> '.join(p.id for p in chain)} -> {parent.id}", at))
            return None
        if not _narrower_region(current.region, parent.region):
            problems.append(_diag("region-outside-parent", f"区划 {current.region} 不在上级政策 {parent.id}（{parent.region}）的范围内",
                                  f"region {current.region} is not inside parent {parent.id} ({parent.region})", at))
        chain.append(parent)
        seen.add(parent.id)
        current = parent
    return tuple(reversed(chain))


def _narrower_region(child: str, parent: str) -> bool:
    if parent == "000000":
        return child != "000000"
    if parent.endswith("0000"):
        return child[:2] == parent[:2] and child != parent
    return False


def layer(policy: Policy, chain: tuple[Policy, ...], problems: list[Diagnostic]) -> LayeredPolicy:
    parameters: dict[str, Parameter] = {}
    history: dict[str, list[Parameter]] = {}
    variables: dict[str, Variable] = {}
    rules: dict[str, Rule] = {}
    benefits: list[BenefitTable] = []
    floors: dict[str, Floor] = {}
    for level in chain:
        for floor in level.floors:
            if floor.id in floors:
                first = floors[floor.id]
                problems.append(_diag("duplicate-floor", f"保底 {floor.id} 已在 {first.policy_id} 中规定：下级不能改写上级的保底",
                                      f"floor {floor.id} is already set by {first.policy_id}: a lower level cannot redefine it", floor.position))
                continue
            floors[floor.id] = floor
        for param in level.parameters:
            earlier = parameters.get(param.name)
            if earlier is not None and earlier.type != param.type:
                problems.append(_diag("parameter-type-changed",
                                      f"参数 {param.name} 的类型应与上级 {earlier.policy_id} 相同（{earlier.type_name}），这里是 {param.type_name}",
                                      f"parameter {param.name} must keep its type from {earlier.policy_id} ({earlier.type_name}), got {param.type_name}",
                                      param.position))
            parameters[param.name] = param
            history.setdefault(param.name, []).append(param)
            _check_bounds(param, history[param.name], problems)
        for variable in level.variables:
            clash = _name_clash(variable.name, variable.for_kind)
            if clash is not None:
                problems.append(_diag("name-collision", *clash, variable.position))
                continue
            if variable.name in variables:
                first = variables[variable.name]
                problems.append(_diag("duplicate-variable", f"变量 {variable.name} 已在 {first.policy_id} 中声明",
                                      f"variable {variable.name} is already declared by {first.policy_id}", variable.position))
                continue
            variables[variable.name] = variable
        for rule in level.rules:
            if rule.id in rules:
                replaced = rules[rule.id]
                if replaced.policy_id == level.id:
                    problems.append(_diag("duplicate-rule", f"规则编号 {rule.id} 重复", f"duplicate rule id {rule.id}", rule.position))
                    continue
                if replaced.sets != rule.sets:
                    problems.append(_diag("replacement-sets-other", f"规则 {rule.id} 替换上级规则，但设置的变量不同（{replaced.sets} → {rule.sets}）",
                                          f"rule {rule.id} replaces a parent rule but sets another variable ({replaced.sets} -> {rule.sets})", rule.position))
            rules[rule.id] = rule
        benefits[:0] = level.benefits
    _check_overrides(rules, problems)
    return LayeredPolicy(policy, chain, parameters, {k: tuple(v) for k, v in history.items()}, variables, tuple(rules.values()),
                         tuple(benefits), tuple(floors.values()))


def rules_in_force(layered: LayeredPolicy, inactive: frozenset[str]) -> tuple[Rule, ...]:
    """The layered rules with those of the `inactive` policies (not yet in force) left out.

    Layered as `layer` does — a later level replaces a rule by reusing its id —
    so where an inactive level replaced a parent's rule, the parent's rule applies.
    """
    if not inactive:
        return layered.rules
    rules: dict[str, Rule] = {}
    for level in layered.chain:
        if level.id in inactive:
            continue
        for rule in level.rules:
            if rule.id in rules and rules[rule.id].policy_id == level.id:
                continue  # a duplicate id in one file: reported by `layer`
            rules[rule.id] = rule
    return tuple(rules.values())


def _check_bounds(param: Parameter, definitions: list[Parameter], problems: list[Diagnostic]) -> None:
    """A value must respect the bounds set at its own level and every level above ("只能收窄"),
    and cite an approval where a level above requires one for changes."""
    for holder in definitions:
        rule = holder.changes_need_approval
        if rule is not None and holder.policy_id != param.policy_id:
            for value in param.values:
                if value.approval is None:
                    problems.append(_diag("approval-missing",
                                          f"参数 {param.name} 由 {param.policy_id} 另定取值，须经上级批准（{rule.label()}"
                                          f"{'：' + rule.says if rule.says else ''}）：这个取值没有写 approval（批准文件）",
                                          f"parameter {param.name} is changed by {param.policy_id}, which needs the approval of the level "
                                          f"above ({rule.label()}): this value cites no approval",
                                          value.position, "在取值下写 approval: {document: 批准文件文号, clause: …}，并把该文件列入 documents",
                                          "add approval: {document: …, clause: …} to the value and list that document under documents"))
        bounds = holder.bounds
        if bounds is None:
            continue
        cited = f"（{bounds.source.label()}）" if bounds.source else ""
        for value in param.values:
            numbers = value.value if isinstance(value.value, tuple) else (value.value,)
            for number in numbers:
                if not hasattr(number, "as_tuple"):
                    continue
                if bounds.maximum is not None and number > bounds.maximum:
                    problems.append(_diag("outside-bounds",
                                          f"参数 {param.name} 的取值 {number} 超过 {holder.policy_id} 规定的上限 {bounds.maximum}{cited}",
                                          f"parameter {param.name} value {number} exceeds the maximum {bounds.maximum} set by {holder.policy_id}{' (' + bounds.source.label() + ')' if bounds.source else ''}",
                                          value.position))
                if bounds.minimum is not None and number < bounds.minimum:
                    problems.append(_diag("outside-bounds",
                                          f"参数 {param.name} 的取值 {number} 低于 {holder.policy_id} 规定的下限 {bounds.minimum}{cited}",
                                          f"parameter {param.name} value {number} is below the minimum {bounds.minimum} set by {holder.policy_id}{' (' + bounds.source.label() + ')' if bounds.source else ''}",
                                          value.position))


def _check_overrides(rules: Mapping[str, Rule], problems: list[Diagnostic]) -> None:
    for rule in rules.values():
        for i, target in enumerate(rule.overrides):
            if target == "*":
                continue
            at = rule.overrides_positions[i] if i < len(rule.overrides_positions) else rule.position
            other = rules.get(target)
            if other is None:
                import difflib

                match = difflib.get_close_matches(target, list(rules), n=1)
                problems.append(_diag("unknown-override", f"overrides 中的规则 “{target}” 不存在", f"overridden rule {target!r} does not exist", at,
                                      f"您是否想写 “{match[0]}”？" if match else None, f"did you mean {match[0]!r}?" if match else None))
            elif other.sets != rule.sets:
                problems.append(_diag("override-other-variable",
                                      f"规则 {rule.id} 设置 {rule.sets}，不能作为设置 {other.sets} 的规则 {target} 的例外",
                                      f"rule {rule.id} sets {rule.sets}; it cannot be an exception to {target}, which sets {other.sets}", at))


def _name_clash(name: str, kind: str) -> tuple[str, str] | None:
    """Why a policy variable may not have `name`, if it may not.

    Expressions resolve a name to a variable before an input field, so a
    variable `costs.total` would silently replace the claim's total in every
    rule; one named like an output would retype it; `param.` and `benefit.`
    names could never be read.
    """
    if any(o.name == name for o in OUTPUTS):
        return (f"变量 {name} 与决定的输出项同名：输出项不能再声明为中间变量",
                f"variable {name} has the name of an output of the decision")
    head = name.split(".")[0]
    if head in ("param", "benefit"):
        return (f"变量名不能以 {head}. 开头：表达式里 {head}.… 指的是{'参数' if head == 'param' else '待遇表'}",
                f"a variable name cannot start with {head}.")
    field = next((path for path in input_types(kind) if path == name or path.startswith(name + ".")), None)
    if field is not None:
        return (f"变量 {name} 与申请中的字段 {field} 同名（或是其前缀）：规则中的 {field} 将不再指申请中的字段",
                f"variable {name} has the name of the input field {field} (or a prefix of it)")
    return None
