"""The types the checker reasons about.

Deliberately small: number (exact Decimal), string (optionally restricted to
an enumeration), bool, date, list, object, and null. Any type may be
`optional` (may be null); the checker only lets an optional value into an
operation that needs a value after a `!= null` test has narrowed it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

NUMBER, STRING, BOOL, DATE, NULL, LIST, OBJECT = "number", "string", "bool", "date", "null", "list", "object"

_ZH = {NUMBER: "数字", STRING: "字符串", BOOL: "布尔值", DATE: "日期", NULL: "空值", LIST: "列表", OBJECT: "对象"}


@dataclass(frozen=True)
class Type:
    kind: str
    optional: bool = False
    enum: frozenset[str] | None = None      # allowed values of a string
    element: Type | None = None             # of a list
    fields: tuple[tuple[str, Type], ...] | None = None  # of an object, in schema order

    def as_optional(self, optional: bool = True) -> Type:
        return replace(self, optional=optional)

    def field(self, name: str) -> Type | None:
        for key, value in self.fields or ():
            if key == name:
                return value
        return None

    def zh(self) -> str:
        base = _ZH[self.kind]
        if self.kind == LIST and self.element is not None:
            base = f"{self.element.zh()}列表"
        if self.enum:
            base += "（" + "、".join(sorted(self.enum)) + "）"
        return base + ("（可为空）" if self.optional and self.kind != NULL else "")

    def en(self) -> str:
        base = self.kind
        if self.kind == LIST and self.element is not None:
            base = f"list of {self.element.en()}"
        if self.enum:
            base += " (" + " | ".join(sorted(self.enum)) + ")"
        return base + ("?" if self.optional and self.kind != NULL else "")


T_NUMBER = Type(NUMBER)
T_STRING = Type(STRING)
T_BOOL = Type(BOOL)
T_DATE = Type(DATE)
T_NULL = Type(NULL, optional=True)


def parse_type_name(text: str) -> Type:
    """`number`, `date?`, `list<string>` … as written in policy files."""
    optional = text.endswith("?")
    name = text.rstrip("?")
    if name.startswith("list<") and name.endswith(">"):
        return Type(LIST, optional, element=parse_type_name(name[5:-1]))
    if name not in (NUMBER, STRING, BOOL, DATE):
        raise ValueError(f"unknown type {text!r}")
    return Type(name, optional)


def enum_type(values, optional: bool = False) -> Type:
    return Type(STRING, optional, enum=frozenset(values))


def same_kind(a: Type, b: Type) -> bool:
    """True when values of a and b can meaningfully be compared for equality."""
    if a.kind == NULL or b.kind == NULL:
        return True
    if a.kind != b.kind:
        return False
    if a.kind == LIST and a.element and b.element:
        return same_kind(a.element, b.element)
    return True


def unify(a: Type, b: Type) -> Type | None:
    """The type of `if c then a else b`, or None when a and b do not fit together."""
    if a.kind == NULL:
        return b.as_optional()
    if b.kind == NULL:
        return a.as_optional()
    if not same_kind(a, b):
        return None
    optional = a.optional or b.optional
    if a.kind == STRING:
        enum = a.enum | b.enum if a.enum is not None and b.enum is not None else None
        return Type(STRING, optional, enum=enum)
    if a.kind == LIST:
        element = unify(a.element, b.element) if a.element and b.element else (a.element or b.element)
        return Type(LIST, optional, element=element)
    return a.as_optional(optional)


def assignable(value: Type, target: Type) -> bool:
    """May a value of type `value` be stored in a variable of type `target`?"""
    if value.kind == NULL:
        return target.optional
    if value.optional and not target.optional:
        return False
    if value.kind != target.kind:
        return False
    if target.enum is not None:
        return value.enum is not None and value.enum <= target.enum
    if value.kind == LIST and value.element and target.element:
        return assignable(value.element, target.element)
    return True
