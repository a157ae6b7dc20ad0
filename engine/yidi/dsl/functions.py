"""The function library of the expression language: one registry entry per function.

Each entry says everything the engine knows about a function, so that adding
one is one entry (and its test): how it is type-checked and how it runs;
the Python written in place of a call where a call costs more than the work
(`inline`); how the documentation site says it in Chinese (`words`); whether
it may hand one of its arguments on untouched (`passes_argument`, which
matters to undetermined values); and what the exclusivity proof may
conclude from it (`implies`, `equal_results_imply`). The type checker, the
compiler (`dsl.compiler`), the docs renderer (`docsite.exprtext`), the
exclusivity proof (`policy.exclusive`) and the function table in
docs/dsl.md (`function_table`) all read this registry.

The runtime implementations are plain Python over Decimal, date and str;
the generated code calls them directly, so they must be pure and fast.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .ast import Literal
from .types import BOOL, DATE, LIST, NULL, NUMBER, T_BOOL, T_DATE, T_NUMBER, T_STRING, Type

# A checker returns the result type, or (message_zh, message_en) on misuse.
Checker = Callable[[Sequence[Type]], "Type | tuple[str, str]"]


@dataclass(frozen=True)
class Function:
    name: str
    signature: str          # shown in messages and docs
    summary_zh: str         # the docs' function table (docs/dsl.md)
    check: Checker
    run: Callable
    words: Callable[..., str] | None = None
    """Chinese for a call, over the rendered arguments (docs site); None or a TypeError: the renderer shows the code."""
    inline: str | None = None
    """Python written in place of the call (`{0}`, `{1}`: the arguments, each used once); must equal `run` (tests/test_dsl.py)."""
    passes_argument: bool = False
    """May return one of its arguments untouched — an undetermined value then passes through without raising."""
    implies: tuple[str, ...] = ()
    """Two-argument predicates that hold (either way round) on the same arguments whenever this one holds."""
    equal_results_imply: tuple[str, ...] = ()
    """Two-argument predicates that hold on (a, b), either way round, whenever f(a) == f(b)."""
    emit: Callable[[Sequence[Any], Sequence[str], Callable[[Any], str]], str | None] | None = None
    """Special Python for a call (argument nodes, their code, a constant's name) or None for the usual; before `inline`."""


def _fixed(params: Sequence[Type], result: Type) -> Checker:
    def check(args: Sequence[Type]):
        if len(args) != len(params):
            return (f"需要 {len(params)} 个参数，实际为 {len(args)} 个", f"takes {len(params)} arguments, got {len(args)}")
        for i, (arg, want) in enumerate(zip(args, params), 1):
            if arg.kind == NULL or arg.optional:
                return (
                    f"第 {i} 个参数可能为空（{arg.zh()}），请先用 != null 判断",
                    f"argument {i} may be null ({arg.en()}); test it with != null first",
                )
            if arg.kind != want.kind:
                return (f"第 {i} 个参数应为{want.zh()}，实际为{arg.zh()}", f"argument {i} must be {want.en()}, got {arg.en()}")
        return result

    return check


def _same_kind_varargs(kinds: tuple[str, ...]) -> Checker:
    def check(args: Sequence[Type]):
        if len(args) < 2:
            return ("至少需要 2 个参数", "takes at least 2 arguments")
        first = args[0]
        for i, arg in enumerate(args, 1):
            if arg.optional or arg.kind == NULL:
                return (f"第 {i} 个参数可能为空，请先用 != null 判断", f"argument {i} may be null; test it with != null first")
            if arg.kind not in kinds or arg.kind != first.kind:
                return ("参数应同为数字或同为日期", "arguments must all be numbers or all be dates")
        return Type(first.kind)

    return check


def _check_coalesce(args: Sequence[Type]):
    if len(args) != 2:
        return ("需要 2 个参数", "takes 2 arguments")
    a, b = args
    if a.kind != NULL and b.kind != NULL and a.kind != b.kind:
        return ("两个参数类型应相同", "both arguments must have the same type")
    base = a if a.kind != NULL else b
    return Type(base.kind, b.optional, enum=None, element=base.element)


def _check_list_of(element_kind: str, result: Callable[[Type], Type]) -> Checker:
    def check(args: Sequence[Type]):
        if len(args) != 1:
            return ("需要 1 个参数", "takes 1 argument")
        arg = args[0]
        if arg.kind != LIST or arg.optional:
            return (f"参数应为列表，实际为{arg.zh()}", f"argument must be a list, got {arg.en()}")
        element = arg.element
        if element_kind and element is not None and element.kind not in (element_kind, NULL):
            return (f"列表元素应为{Type(element_kind).zh()}", f"list elements must be {element_kind}")
        return result(element or Type(element_kind or NULL))

    return check


def add_months(day: datetime.date, months: Decimal) -> datetime.date:
    """Same day-of-month `months` later, clamped to the month's last day."""
    n = int(months)
    index = day.year * 12 + (day.month - 1) + n
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last))


def months_between(start: datetime.date, end: datetime.date) -> Decimal:
    """Whole months from `start` to `end`: the largest n with add_months(start, n) <= end (negative when end is earlier).

    So `months_between(x, y) >= N` says the same as `add_months(x, N) <= y`,
    the reading "at least N months after" that the filing rules use (contract §5).
    """
    n = (end.year - start.year) * 12 + end.month - start.month
    if add_months(start, Decimal(n)) > end:
        n -= 1
    return Decimal(n)


def window_end(start: datetime.date, months: Decimal) -> datetime.date:
    """Last day of an N-month window starting on `start` (contract §5).

    The day before the same day-of-month N months later; where that month has
    no such day (a window starting 08-31), the window ends on that month's
    last day — the month-end rule of 民法典 第二百零二条 (a period counted in
    months ends on the corresponding day; with no such day, on the month's
    last day).
    """
    n = int(months)
    index = start.year * 12 + (start.month - 1) + n
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    if start.day > last:
        return datetime.date(year, month + 1, last)
    return datetime.date(year, month + 1, start.day) - datetime.timedelta(days=1)


def _round(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)


def _emit_round(nodes: Sequence[Any], args: Sequence[str], constant: Callable[[Any], str]) -> str | None:
    """`round(x, 2)`, places written as a number: quantize in place, the step a constant (the checker allows 0–10 only)."""
    if isinstance(nodes[1], Literal):
        return f"{args[0]}.quantize({constant(Decimal(1).scaleb(-int(nodes[1].value)))}, rounding=HALF_UP)"
    return None


def province_of(region: str) -> str:
    return region[:2] + "0000"


def city_of(region: str) -> str:
    return region if region.endswith("0000") else region[:4] + "00"


def region_covers(filed: str, visited: str) -> bool:
    """Does a filing to `filed` cover care in `visited`?

    A province-level filing (京津沪渝琼藏兵团, or any code ending 0000)
    covers the whole province; a city-level one covers the city's districts.
    """
    if filed.endswith("0000"):
        return filed[:2] == visited[:2]
    if filed.endswith("00"):
        return filed[:4] == visited[:4]
    return filed == visited


def _latest(values):
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _earliest(values):
    present = [v for v in values if v is not None]
    return min(present) if present else None


_S, _D, _N = T_STRING, T_DATE, T_NUMBER

def _at_least_two(words: Callable[..., str]) -> Callable[..., str]:
    def render(*args: str) -> str:
        if len(args) < 2:
            raise TypeError("takes at least 2 arguments")
        return words(*args)

    return render


FUNCTIONS: dict[str, Function] = {f.name: f for f in [
    Function("days_between", "days_between(开始日期, 结束日期) → 数字", "两个日期相差的天数（结束减开始）",
             _fixed((_D, _D), _N), lambda a, b: Decimal((b - a).days),
             words=lambda a, b: f"{a}至{b}的天数", inline="Decimal(({1} - {0}).days)"),
    Function("add_days", "add_days(日期, 天数) → 日期", "日期加若干天",
             _fixed((_D, _N), _D), lambda d, n: d + datetime.timedelta(days=int(n)),
             words=lambda d, n: f"{d}加{n}天"),
    Function("add_months", "add_months(日期, 月数) → 日期", "日期加若干月（同日；该月无此日取月末）",
             _fixed((_D, _N), _D), add_months, words=lambda d, n: f"{d}加{n}个月"),
    Function("months_between", "months_between(开始日期, 结束日期) → 数字", "开始日期到结束日期之间的整月数：使 add_months(开始日期, n) 不晚于结束日期的最大 n（结束早于开始时为负数）",
             _fixed((_D, _D), _N), months_between, words=lambda a, b: f"{a}至{b}的整月数"),
    Function("window_end", "window_end(开始日期, 月数) → 日期", "N个月有效期的最后一日（对应日前一日；无对应日的为该月末日）",
             _fixed((_D, _N), _D), window_end, words=lambda d, n: f"自{d}起{n}个月有效期的最后一日"),
    Function("year", "year(日期) → 数字", "日期所在年份",
             _fixed((_D,), _N), lambda d: Decimal(d.year), words=lambda d: f"{d}所在年份"),
    Function("min", "min(a, b, …) → 数字或日期", "最小值", _same_kind_varargs((NUMBER, DATE)), min,
             words=_at_least_two(lambda *a: f"{'、'.join(a)}中的较小者")),
    Function("max", "max(a, b, …) → 数字或日期", "最大值", _same_kind_varargs((NUMBER, DATE)), max,
             words=_at_least_two(lambda *a: f"{'、'.join(a)}中的较大者")),
    Function("round", "round(数字, 小数位数) → 数字", "四舍五入（ROUND_HALF_UP）到指定小数位；小数位数直接写 0 到 10 的整数，如 `round(x, 2)`",
             _fixed((_N, _N), _N), _round, words=lambda x, n: f"{x}四舍五入到{n}位小数", emit=_emit_round),
    Function("coalesce", "coalesce(可空值, 备用值)", "前者为空时取后者", _check_coalesce,
             lambda a, b: b if a is None else a, words=lambda a, b: f"{a}（为空时取{b}）", passes_argument=True),
    Function("province_of", "province_of(区划) → 区划", "所属省级区划代码（前两位加 0000）",
             _fixed((_S,), _S), province_of, words=lambda r: f"{r}所属省份", inline="({0}[:2] + '0000')"),
    Function("city_of", "city_of(区划) → 区划", "所属地市级区划代码（省级代码不变）",
             _fixed((_S,), _S), city_of, words=lambda r: f"{r}所属地市",
             # equal cities share their first two digits: city_of keeps a code's first four digits or the whole province code
             equal_results_imply=("same_province",)),
    Function("same_province", "same_province(区划, 区划) → 布尔值", "两个区划是否同省（前两位相同）",
             _fixed((_S, _S), T_BOOL), lambda a, b: a[:2] == b[:2], words=lambda a, b: f"{a}与{b}同省",
             inline="({0}[:2] == {1}[:2])"),
    Function("same_city", "same_city(区划, 区划) → 布尔值", "两个区划是否同一地市（前四位相同）",
             _fixed((_S, _S), T_BOOL), lambda a, b: a[:4] == b[:4], words=lambda a, b: f"{a}与{b}同一地市",
             inline="({0}[:4] == {1}[:4])", implies=("same_province",)),
    Function("is_province", "is_province(区划) → 布尔值", "是否省级区划代码（以 0000 结尾）",
             _fixed((_S,), T_BOOL), lambda a: a.endswith("0000"), words=lambda r: f"{r}为省级区划",
             inline="{0}.endswith('0000')"),
    Function("region_covers", "region_covers(备案地, 就医地) → 布尔值", "备案地是否覆盖就医地（省级备案覆盖全省，市级覆盖全市）",
             _fixed((_S, _S), T_BOOL), region_covers, words=lambda a, b: f"{a}覆盖{b}"),
    Function("count", "count(列表) → 数字", "列表元素个数",
             _check_list_of("", lambda e: T_NUMBER), lambda xs: Decimal(len(xs)), words=lambda x: f"{x}的个数"),
    Function("latest", "latest(日期列表) → 日期（可为空）", "列表中最晚的日期，空列表为 null",
             _check_list_of(DATE, lambda e: T_DATE.as_optional()), _latest, words=lambda x: f"{x}中最晚的日期",
             passes_argument=True),
    Function("earliest", "earliest(日期列表) → 日期（可为空）", "列表中最早的日期，空列表为 null",
             _check_list_of(DATE, lambda e: T_DATE.as_optional()), _earliest, words=lambda x: f"{x}中最早的日期",
             passes_argument=True),
    Function("any", "any(布尔值列表) → 布尔值", "列表中是否有为真的项",
             _check_list_of(BOOL, lambda e: T_BOOL), any, words=lambda x: f"{x}中有一项成立"),
    Function("all", "all(布尔值列表) → 布尔值", "列表中是否全部为真",
             _check_list_of(BOOL, lambda e: T_BOOL), all, words=lambda x: f"{x}全部成立"),
]}


def function_table() -> str:
    """The function table of docs/dsl.md, as Markdown (a test keeps the page in step with the registry)."""
    rows = ["| 函数 | 说明 |", "|---|---|"]
    rows += [f"| `{f.signature}` | {f.summary_zh} |" for f in FUNCTIONS.values()]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # python -m yidi.dsl.functions > the table for docs/dsl.md
    print(function_table(), end="")
