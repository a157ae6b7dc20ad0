"""The expression language: parsing, type checking, compiling, running."""

from __future__ import annotations

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yidi.dsl import ast
from yidi.dsl.checker import Environment, check
from yidi.dsl.compiler import ConstantPool, input_name, to_python
from yidi.dsl.errors import ExpressionError
from yidi.dsl.functions import FUNCTIONS, add_months, region_covers
from yidi.dsl.parser import parse
from yidi.dsl.types import LIST, OBJECT, STRING, T_BOOL, T_DATE, T_NUMBER, T_STRING, Type, enum_type

D = datetime.date

ENV = Environment(
    inputs={
        "visit": Type(OBJECT),
        "visit.kind": enum_type(["inpatient", "outpatient"]),
        "visit.admission_date": T_DATE,
        "visit.emergency": T_BOOL,
        "visit.region": T_STRING,
        "insured": Type(OBJECT),
        "insured.birth_date": T_DATE.as_optional(),
        "filing": Type(OBJECT, optional=True),
        "filing.type": enum_type(["referral", "emergency", "other_temporary"]),
        "filing.start_date": T_DATE,
        "filing.end_date": T_DATE.as_optional(),
        "costs": Type(OBJECT),
        "costs.total": T_NUMBER,
        "history": Type(LIST, element=Type(OBJECT, fields=(("basis", T_STRING), ("cancelled_on", T_DATE.as_optional())))),
    },
    params={"reduction.referral": T_NUMBER, "chronic": Type(LIST, element=T_STRING)},
    variables={"treatment": enum_type(["local", "emergency"]), "filing_end": T_DATE.as_optional()},
    benefit={"ratio": T_NUMBER.as_optional()},
)

INPUT = {
    "visit": {}, "visit.kind": "inpatient", "visit.admission_date": D(2025, 7, 10), "visit.emergency": False,
    "visit.region": "110105", "insured": {}, "insured.birth_date": D(2025, 7, 2), "filing": None,
    "filing.type": None, "filing.start_date": None, "filing.end_date": None, "costs": {}, "costs.total": Decimal("100.10"),
    "history": [{"basis": "commitment", "cancelled_on": D(2024, 9, 1)}, {"basis": "materials", "cancelled_on": D(2025, 1, 1)},
                {"basis": "commitment", "cancelled_on": None}],
}


def run(text: str, d=None, params=None, variables=None):
    checked = check(parse(text), ENV)
    pool = ConstantPool()
    code = to_python(checked, pool)
    namespace = {f"K{i}": v for i, v in enumerate(pool.values)} | {f"f_{n}": f.run for n, f in FUNCTIONS.items()}
    namespace.update({input_name(path): value for path, value in (d or INPUT).items()})
    namespace.update(p=params or {"reduction.referral": Decimal(10), "chronic": ("copd",)}, b={"ratio": Decimal("0.85")},
                     Decimal=Decimal, HALF_UP=ROUND_HALF_UP)
    for name, value in (variables or {"treatment": "local", "filing_end": None}).items():
        namespace["v_" + name] = value
    return eval(code, {"__builtins__": {}}, namespace)  # noqa: S307 — our own compiled output


def problems(text: str) -> list:
    with pytest.raises(ExpressionError) as info:
        check(parse(text), ENV)
    return info.value.problems


# ── parsing ──────────────────────────────────────────────────────────

@pytest.mark.parametrize(("text", "expected"), [
    ("1 + 2 * 3", ast.Binary("+", ast.Literal(Decimal(1)), ast.Binary("*", ast.Literal(Decimal(2)), ast.Literal(Decimal(3))))),
    ("not a and b", ast.Binary("and", ast.Unary("not", ast.Path(("a",))), ast.Path(("b",)))),
    ("a or b and c", ast.Binary("or", ast.Path(("a",)), ast.Binary("and", ast.Path(("b",)), ast.Path(("c",))))),
    ('"中文"', ast.Literal("中文")),
    ("2025-03-01", ast.Literal(D(2025, 3, 1))),
    ("0.015", ast.Literal(Decimal("0.015"))),
    ("null", ast.Literal(None)),
    ("x not in [1, 2]", ast.Binary("not in", ast.Path(("x",)), ast.ListExpr((ast.Literal(Decimal(1)), ast.Literal(Decimal(2)))))),
    ("if a then 1 else 2", ast.If(ast.Path(("a",)), ast.Literal(Decimal(1)), ast.Literal(Decimal(2)))),
    ("visit.admission_date", ast.Path(("visit", "admission_date"))),
    ("f(x, y)", ast.Call("f", (ast.Path(("x",)), ast.Path(("y",))))),
])
def test_parse_builds_the_expected_tree(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(("text", "offset", "fragment"), [
    ("a and", 5, "不完整"),
    ("a ==== b", 4, "不应出现"),
    ("a @ b", 2, "无法识别"),
    ("2025-02-30 < x", 0, "不是有效日期"),
    ("", 0, "为空"),
])
def test_syntax_errors_have_offsets_and_chinese_messages(text, offset, fragment):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    problem = info.value.problems[0]
    assert problem.start == offset
    assert fragment in problem.message_zh


def test_node_positions_cover_their_text():
    text = 'visit.kind == "inpatient" and costs.total > 100'
    node = parse(text)
    assert text[node.left.start:node.left.end] == 'visit.kind == "inpatient"'
    assert text[node.right.left.start:node.right.left.end] == "costs.total"


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_expression_error(text):
    try:
        parse(text)
    except ExpressionError as exc:
        assert all(0 <= p.start <= len(text) for p in exc.problems)


# ── type checking ────────────────────────────────────────────────────

@pytest.mark.parametrize(("text", "code", "where"), [
    ("visit.kidn == 1", "unknown-field", "visit.kidn"),
    ('visit.kind == "inpatent"', "bad-value", '"inpatent"'),
    ('costs.total > "a"', "wrong-type", ">"),
    ("dayz_between(visit.admission_date, visit.admission_date)", "unknown-function", "dayz_between"),
    ("param.reduction.referal", "unknown-param", "param.reduction.referal"),
    ("insured.birth_date < visit.admission_date", "maybe-null", "insured.birth_date"),
    ("filing.start_date < visit.admission_date", "maybe-null", "filing.start_date"),
    ("costs.total == null", "never-null", "costs.total == null"),
    ("visit.emergency + 1", "wrong-type", "visit.emergency"),
    ('treatment in ["local", "emergncy"]', "bad-value", '"emergncy"'),
    ("if visit.emergency then 1 else \"x\"", "wrong-type", 'if visit.emergency then 1 else "x"'),
    ("unknown_name", "unknown-name", "unknown_name"),
])
def test_checker_reports_the_offending_token(text, code, where):
    found = problems(text)
    assert found[0].code == code
    assert text[found[0].start:found[0].end] == where


def test_checker_suggests_the_nearest_name():
    assert "kind" in problems("visit.kidn == 1")[0].help_zh
    assert "inpatient" in problems('visit.kind == "inpatent"')[0].help_zh


def test_checker_collects_every_problem_not_just_the_first():
    assert len(problems('visit.kidn == 1 and dayz(1) and costs.total > "a"')) == 3


def test_null_tests_narrow_optional_values():
    check(parse("insured.birth_date != null and insured.birth_date < visit.admission_date"), ENV)
    check(parse("if filing_end == null then true else filing_end >= visit.admission_date"), ENV)
    check(parse("filing != null and filing.start_date <= visit.admission_date"), ENV)
    check(parse("insured.birth_date == null or insured.birth_date < visit.admission_date"), ENV)


def test_result_type_of_expressions():
    assert check(parse("benefit.ratio"), ENV).type == T_NUMBER.as_optional()
    assert check(parse("latest([h.cancelled_on for h in history])"), ENV).type == T_DATE.as_optional()
    assert check(parse('if visit.emergency then "emergency" else "local"'), ENV).type.kind == STRING


# ── running compiled code ────────────────────────────────────────────

@pytest.mark.parametrize(("text", "value"), [
    ("1 + 2 * 3", Decimal(7)),
    ("costs.total * 0.85", Decimal("85.0850")),
    ("round(75.015, 2)", Decimal("75.02")),
    ("round(0.125, 2)", Decimal("0.13")),
    ("if insured.birth_date != null then days_between(insured.birth_date, visit.admission_date) else -1", Decimal(8)),
    ("add_months(2025-01-31, 1)", D(2025, 2, 28)),
    ("add_days(add_months(2025-01-01, 6), -1)", D(2025, 6, 30)),
    ('visit.kind == "inpatient" and not visit.emergency', True),
    ("filing.type == \"referral\"", False),
    ("filing == null", True),
    ('province_of(visit.region) == "110000"', True),
    ('city_of("410105")', "410100"),
    ('region_covers("110000", visit.region)', True),
    ('"copd" in param.chronic', True),
    ('latest([h.cancelled_on for h in history if h.basis == "commitment"])', D(2024, 9, 1)),
    ("count(history)", Decimal(3)),
    ("min(3, 1, 2)", Decimal(1)),
    ("max(2025-01-01, visit.admission_date)", D(2025, 7, 10)),
    ("coalesce(filing_end, visit.admission_date)", D(2025, 7, 10)),
    ("if visit.emergency then 1 else 2", Decimal(2)),
    ("-param.reduction.referral / 100", Decimal("-0.1")),
])
def test_compiled_expressions_compute_exact_values(text, value):
    assert run(text) == value


def test_compiled_output_is_deterministic():
    text = 'visit.kind == "inpatient" and costs.total >= 30000 and visit.admission_date > 2025-01-01'
    first = to_python(check(parse(text), ENV), ConstantPool())
    second = to_python(check(parse(text), ENV), ConstantPool())
    assert first == second
    assert "eval" not in first and not re.search(r"(?<![A-Za-z0-9_])__|\.__", first)  # no dunder names or attributes


def test_add_months_follows_the_contract_convention():
    # a 6-month filing starting 2025-01-01 is valid through 2025-06-30
    assert add_months(D(2025, 1, 1), Decimal(6)) - datetime.timedelta(days=1) == D(2025, 6, 30)
    # cancelled 2024-09-01 → allowed again from 2026-09-01 under a 24-month bar
    assert add_months(D(2024, 9, 1), Decimal(24)) == D(2026, 9, 1)


@pytest.mark.parametrize(("filed", "visited", "covers"), [
    ("110000", "110105", True), ("110000", "120000", False), ("320500", "320506", True),
    ("320500", "320100", False), ("320506", "320506", True),
])
def test_region_covers(filed, visited, covers):
    assert region_covers(filed, visited) is covers


def test_the_function_table_in_the_docs_is_the_registrys():
    from yidi.dsl.functions import function_table

    from .conftest import ROOT

    reference = (ROOT / "docs" / "dsl.md").read_text(encoding="utf-8")
    assert function_table() in reference, "regenerate the table in docs/dsl.md: python -m yidi.dsl.functions"


def test_every_function_has_words_for_the_docs_site():
    for function in FUNCTIONS.values():
        assert function.words is not None, function.name


@pytest.mark.parametrize(("start", "months", "end"), [
    (D(2025, 1, 1), 6, D(2025, 6, 30)),
    (D(2025, 3, 1), 6, D(2025, 8, 31)),
    (D(2025, 8, 31), 6, D(2026, 2, 28)),
    (D(2023, 8, 30), 6, D(2024, 2, 29)),
    (D(2025, 6, 15), 6, D(2025, 12, 14)),
])
def test_window_end_counts_months_like_the_civil_code(start, months, end):
    from yidi.dsl.functions import window_end

    assert window_end(start, Decimal(months)) == end


def test_if_of_literals_fits_an_enumerated_variable():
    env = Environment(inputs=ENV.inputs, variables={"treatment": enum_type(["local", "emergency"])})
    checked = check(parse('if visit.emergency then "emergency" else "local"'), env, enum_type(["local", "emergency"]))
    assert checked.type.enum == frozenset({"emergency", "local"})
    with pytest.raises(ExpressionError):
        check(parse('if visit.emergency then "emergncy" else "local"'), env, enum_type(["local", "emergency"]))


# ── functions written in place ─────────────────────────────────────────────

regions = st.from_regex(r"[1-9][0-9]{5}", fullmatch=True)
days = st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2040, 12, 31))


@given(regions, regions, days, days)
def test_inlined_functions_equal_the_library(a, b, start, end):
    """Each inline template (`Function.inline`) gives what the library function gives."""
    samples = {
        "same_province": (a, b), "same_city": (a, b), "province_of": (a,), "is_province": (a,),
        "days_between": (start, end),
    }
    assert set(samples) == {n for n, f in FUNCTIONS.items() if f.inline}, "every inlined function has a sample here"
    for name, args in samples.items():
        names = {f"a{i}": value for i, value in enumerate(args)}
        template = FUNCTIONS[name].inline
        inline = eval(template.format(*names), {"__builtins__": {}, "Decimal": Decimal}, names)  # noqa: S307
        assert inline == FUNCTIONS[name].run(*args), (name, args)


def test_inline_templates_use_each_argument_once():
    """So an argument is never evaluated twice, whatever expression it is."""
    for function in FUNCTIONS.values():
        if function.inline is not None:
            for i in range(function.inline.count("{")):
                assert function.inline.count(f"{{{i}}}") <= 1, function.name
    assert "f_same_province" not in run_code("same_province(if visit.emergency then visit.region else \"110100\", visit.region)")


@pytest.mark.parametrize("amount, expected", [("75.015", "75.02"), ("75.014", "75.01"), ("0.005", "0.01"), ("-0.005", "-0.01")])
def test_rounding_to_a_constant_number_of_places_is_half_up(amount, expected):
    assert run(f"round({amount}, 2) == {expected}") is True
    assert run(f"round(costs.total * {amount}, 2) == round(costs.total * {amount}, 2)") is True


def run_code(text: str) -> str:
    return to_python(check(parse(text), ENV), ConstantPool())


def test_lark_keeps_its_parser_in_the_users_cache_folder_or_nowhere(tmp_path, monkeypatch):
    from yidi.dsl import lark_parser

    def fresh_parser():
        lark_parser._lark.cache_clear()
        try:
            return lark_parser._lark()
        finally:
            lark_parser._lark.cache_clear()

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    built = fresh_parser()
    (kept,) = (tmp_path / "cache" / "yidi").glob("lark-grammar-*.msgpack")
    assert not kept.read_bytes().startswith(b"\x80"), "kept as data (MessagePack), not as a pickle"
    assert kept.stat().st_mode & 0o077 == 0
    assert fresh_parser() is not built  # read back from the file …
    texts = ["a + 1 * -b", 'if x != null then f(x, [1, 2]) else "s"', "[i for i in xs if i in [1]]", "a +", "1 ! 2"]
    for text in texts:  # … and it parses exactly like the parser built from the grammar
        assert _outcome(lark_parser._lark(), text) == _outcome(built, text)
    kept.write_bytes(b"damaged")
    assert _outcome(fresh_parser(), "a + 1") == _outcome(built, "a + 1")  # a damaged file: built again
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    assert _outcome(fresh_parser(), "a + 1") == _outcome(built, "a + 1")  # no folder: no cache, same parser


def _outcome(parser, text):
    try:
        return parser.parse(text)
    except Exception as exc:  # noqa: BLE001 — comparing how two parsers fail
        return type(exc).__name__, str(exc)


@given(days, days, st.integers(-30, 30))
def test_months_between_counts_whole_months_as_add_months_does(start, end, n):
    """months_between(x, y) >= n exactly when add_months(x, n) <= y: the two never disagree about "n months after"."""
    from yidi.dsl.functions import months_between

    assert (months_between(start, end) >= n) == (add_months(start, Decimal(n)) <= end)


def test_months_between_is_called_from_the_generated_code():
    assert "f_months_between(i_visit_D_admission_date, K0)" in run_code(
        "months_between(visit.admission_date, 2026-01-01) >= 1")


@pytest.mark.parametrize("text", ["a or b", "a and b", "x == 1", "x != 1", "x < 1", "x <= 1", "x > 1", "x >= 1", "x in [1]",
                                  "x not in [1]", "x + 1", "x - 1", "x * 1", "x / 1"])
def test_every_binary_operator_of_the_grammar_is_in_the_operator_table(text):
    """The grammar's binary operators and dsl/operators.py's table are the same set (and the table says nothing more)."""
    from yidi.dsl import ast
    from yidi.dsl.operators import OPERATORS

    node = parse(text)
    assert isinstance(node, ast.Binary) and node.op in OPERATORS


def test_the_operator_table_has_no_operator_the_grammar_lacks():
    from yidi.dsl.operators import OPERATORS

    written = {"or", "and", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "+", "-", "*", "/"}
    assert set(OPERATORS) == written
