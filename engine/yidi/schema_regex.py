"""JSON Schema `pattern`s read as the JSON Schema standard reads them (ECMA-262).

Python's `re` differs from ECMA-262 in two ways that matter to a schema: `$`
also matches before a final line break (so `^[a-z]+$` accepts `"henan\\n"`),
and `\\d`/`\\w` match non-ASCII digits and letters. Every check of a schema
pattern in yidi — documents, policy files, test files, the fast yes/no
checks — compiles it here, so a value editors reject is never accepted by
the engine, nor the reverse.
"""

from __future__ import annotations

import functools
import heapq
import re
from collections.abc import Iterator
from typing import Any


@functools.lru_cache(maxsize=None)
def ecma_regex(pattern: str) -> re.Pattern:
    """`pattern` compiled with ECMA-262 meaning: ASCII classes, `$` only at the very end."""
    return re.compile(_end_anchors(pattern), re.ASCII)


def _end_anchors(pattern: str) -> str:
    """Every `$` that is an anchor (not escaped, not in a class) becomes `\\Z`."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern.startswith("]", i + 1) or pattern.startswith("^]", i + 1):  # `[]…]`: a literal ] first
                out.append(pattern[i:i + (2 if pattern[i + 1] == "]" else 3)])
                i += len(out[-1])
                continue
        elif char == "$":
            char = r"\Z"
        out.append(char)
        i += 1
    return "".join(out)


def pattern_keyword(validator: Any, pattern: str, instance: Any, schema: dict) -> Iterator[Any]:
    """jsonschema's `pattern` keyword with ECMA-262 semantics."""
    import jsonschema

    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: dict, instance: Any, schema: dict) -> Iterator[Any]:
    if validator.is_type(instance, "object"):
        for pattern, subschema in patterns.items():
            for key, value in instance.items():
                if ecma_regex(pattern).search(key):
                    yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, allowed: Any, instance: Any, schema: dict) -> Iterator[Any]:
    import jsonschema

    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = [ecma_regex(p) for p in schema.get("patternProperties", {})]
    extras = [k for k in instance if k not in known and not any(p.search(k) for p in patterns)]
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:  # the first few named: a document of 90,000 unknown keys costs no more than a few
        listed = ", ".join(repr(extra) for extra in heapq.nsmallest(20, extras))
        more = f" and {len(extras) - 20} more" if len(extras) > 20 else ""
        yield jsonschema.ValidationError(f"Additional properties are not allowed ({listed}{more} unexpected)")


# For `jsonschema.validators.extend`: every keyword that reads a regular expression.
ECMA_KEYWORDS = {"pattern": pattern_keyword, "patternProperties": _pattern_properties,
                 "additionalProperties": _additional_properties}


@functools.cache
def ecma_validator_class() -> Any:
    """Draft 2020-12 with ECMA-262 regular expressions: the validator for yidi's own files."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(Draft202012Validator, validators=ECMA_KEYWORDS)
