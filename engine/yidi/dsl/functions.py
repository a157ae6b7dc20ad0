"""The function library of the expression language.

Each function states how it is type-checked and how it runs. The runtime
implementations are plain Python over Decimal, date and str; the compiler
calls them directly, so they must be pure and fast.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .types import BOOL, DATE, LIST, NULL, NUMBER, T_BOOL, T_DATE, T_NUMBER, T_STRING, Type

# A checker returns the result type, or (message_zh, message_en) on misuse.
Checker = Callable[[Sequence[Type]], "Type | tuple[str, str]"]


@dataclass(frozen=True)
class Function:
    name: str
    signature: str          # shown in messages and docs
    summary_zh: str
    check: Checker
    run: Callable


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

FUNCTIONS: dict[str, Function] = {f.name: f for f in [
    Function("days_between", "days_between(开始日期, 结束日期) → 数字", "两个日期相差的天数（结束减开始）",
             _fixed((_D, _D), _N), lambda a, b: Decimal((b - a).days)),
    Function("add_days", "add_days(日期, 天数) → 日期", "日期加若干天",
             _fixed((_D, _N), _D), lambda d, n: d + datetime.timedelta(days=int(n))),
    Function("add_months", "add_months(日期, 月数) → 日期", "日期加若干月（同日；该月无此日取月末）",
             _fixed((_D, _N), _D), add_months),
    Function("window_end", "window_end(开始日期, 月数) → 日期", "N个月有效期的最后一日（对应日前一日；无对应日的为该月末日）",
             _fixed((_D, _N), _D), window_end),
    Function("year", "year(日期) → 数字", "日期所在年份",
             _fixed((_D,), _N), lambda d: Decimal(d.year)),
    Function("min", "min(a, b, …) → 数字或日期", "最小值", _same_kind_varargs((NUMBER, DATE)), min),
    Function("max", "max(a, b, …) → 数字或日期", "最大值", _same_kind_varargs((NUMBER, DATE)), max),
    Function("round", "round(数字, 小数位数) → 数字", "四舍五入（ROUND_HALF_UP）到指定小数位；小数位数直接写 0 到 10 的整数",
             _fixed((_N, _N), _N), _round),
    Function("coalesce", "coalesce(可空值, 备用值)", "前者为空时取后者", _check_coalesce,
             lambda a, b: b if a is None else a),
    Function("province_of", "province_of(区划) → 区划", "所属省级区划代码（前两位加 0000）",
             _fixed((_S,), _S), province_of),
    Function("city_of", "city_of(区划) → 区划", "所属地市级区划代码（省级代码不变）",
             _fixed((_S,), _S), city_of),
    Function("same_province", "same_province(区划, 区划) → 布尔值", "两个区划是否同省（前两位相同）",
             _fixed((_S, _S), T_BOOL), lambda a, b: a[:2] == b[:2]),
    Function("same_city", "same_city(区划, 区划) → 布尔值", "两个区划是否同一地市（前四位相同）",
             _fixed((_S, _S), T_BOOL), lambda a, b: a[:4] == b[:4]),
    Function("is_province", "is_province(区划) → 布尔值", "是否省级区划代码（以 0000 结尾）",
             _fixed((_S,), T_BOOL), lambda a: a.endswith("0000")),
    Function("region_covers", "region_covers(备案地, 就医地) → 布尔值", "备案地是否覆盖就医地（省级备案覆盖全省，市级覆盖全市）",
             _fixed((_S, _S), T_BOOL), region_covers),
    Function("count", "count(列表) → 数字", "列表元素个数",
             _check_list_of("", lambda e: T_NUMBER), lambda xs: Decimal(len(xs))),
    Function("latest", "latest(日期列表) → 日期（可为空）", "列表中最晚的日期，空列表为 null",
             _check_list_of(DATE, lambda e: T_DATE.as_optional()), _latest),
    Function("earliest", "earliest(日期列表) → 日期（可为空）", "列表中最早的日期，空列表为 null",
             _check_list_of(DATE, lambda e: T_DATE.as_optional()), _earliest),
    Function("any", "any(布尔值列表) → 布尔值", "列表中是否有为真的项",
             _check_list_of(BOOL, lambda e: T_BOOL), any),
    Function("all", "all(布尔值列表) → 布尔值", "列表中是否全部为真",
             _check_list_of(BOOL, lambda e: T_BOOL), all),
]}

