"""Which of a policy's grid situations the static checks may skip: those holding what an earlier one read.

Why: ~4,000 situations per policy, ~400 policies, and most situations differ
only in inputs the policy never looks at (a filing type where no filing
counts, a psychiatric certificate in a region with no such rule). A decision
is a deterministic function of the document values the engine reads: a
situation that holds, at every input an earlier decision read, the values
that decision saw would be decided in exactly the same way — the same
rules, findings and errors. The static checks report each rule and each
finding at its first situation, so such a situation adds nothing and is
skipped (`policy.static_checks.check_policy`, `SeenReads`).

What a decision read is known two ways. `TrackedDocument`, a dict that
notes every key read, records it; anything that could read without being
noted (iterating the document, copying it, comparing it, writing into it)
marks the recording incomplete, and such a situation is never used to skip
another. And each program declares every key it can read
(`Program.document_reads`: a generated function reads its document only at
its top and in the benefit lookup; with routing, `Evaluator.document_reads`)
— taking that saves recording ~20 reads per decision, a tenth of the grid.
The declaration is trusted, per policy, only after the first decision with
it was recorded and read nothing else; tests/test_situation_memo.py holds
it to the recording in every shipped and synthetic situation.
tests/test_situation_memo.py also checks that the findings equal those of
deciding every situation, on the shipped tree and on randomly edited
synthetic ones, and that an incomplete recording skips nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import compress, count
from operator import itemgetter, not_
from typing import Any

class TrackedDocument(dict):
    """A flat document that notes, in order, every key read from it."""

    __slots__ = ("reads", "complete")

    def __init__(self, document: dict[str, Any]):
        super().__init__(document)
        self.reads: dict[str, None] = {}     # insertion-ordered set: the first read of each key
        self.complete = True

    def __getitem__(self, key):
        self.reads[key] = None
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        self.reads[key] = None
        return dict.get(self, key, default)

    def __contains__(self, key):
        self.reads[key] = None
        return dict.__contains__(self, key)

    def _whole(self):
        self.complete = False

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self):
        self._whole()
        return (dict, (dict(dict.items(self)),))


def _reading_the_whole(name: str):
    """`dict.<name>`, which reads (or changes) the document as a whole: what it returns could depend on any key,
    so the recording no longer says what was read."""
    method = getattr(dict, name)

    def whole(self, *args, **kwargs):
        self._whole()
        return method(self, *args, **kwargs)

    whole.__name__ = whole.__qualname__ = name
    return whole


for _name in ("__iter__", "__reversed__", "__len__", "__eq__", "__ne__", "__or__", "__ior__", "keys", "values", "items",
              "copy", "__setitem__", "__delitem__", "setdefault", "pop", "popitem", "clear", "update"):
    setattr(TrackedDocument, _name, _reading_the_whole(_name))
del _name


def value_key(value: Any) -> Any:
    """A hashable stand-in for a value that only an equal value of the same type shares (1, 1.0 and True differ)."""
    try:
        hash(value)
    except TypeError:
        return (type(value), repr(value))
    return (type(value), value)


class ValueKeys(dict):
    """A number for the value of every input of a flat document (`value_keys`); an input the document lacks
    has the number of a missing value."""

    __slots__ = ()

    def __missing__(self, key):
        return _ABSENT


_ABSENT = -1


_HASHABLE: set[type] = set()    # types whose values have hashed (`value_keys`)


class ValueNumbers(dict):
    """Value key → number, a new number for each new key: with it `value_keys` numbers a document in C."""

    __slots__ = ()

    def __missing__(self, key):
        number = self[key] = len(self)
        return number


def value_keys(document: dict[str, Any], numbers: ValueNumbers) -> ValueKeys:
    """`ValueKeys` of a flat document, computed once for a situation that may be skipped.

    Values are numbered by their `value_key` through `numbers`: documents
    compared with each other must share it. A tuple of small ints hashes and
    compares far sooner than one of (type, value) pairs. Values of types seen
    to hash are numbered in one pass of C iterators (a national tree's ~8,000
    situation templates, from nothing), the others one by one.
    """
    values = list(document.values())
    types = list(map(type, values))
    tagged = list(zip(types, values))   # `value_key` of a value that hashes
    if not _HASHABLE.issuperset(types):     # a list, an unhashable object, or a type not met before
        for i, kind in enumerate(types):
            if kind not in _HASHABLE:
                tagged[i] = value_key(values[i])
                if tagged[i][1] is values[i]:
                    _HASHABLE.add(kind)     # its values hash: next time they go the quick way
    try:
        return ValueKeys(zip(document, map(numbers.__getitem__, tagged)))
    except TypeError:   # a value of a type that hashed before does not (a tuple holding a list)
        return ValueKeys(zip(document, map(numbers.__getitem__, map(value_key, values))))


_PROJECTIONS: dict[tuple[int, frozenset[str]], tuple[Sequence[ValueKeys], list[int]]] = {}
_PROJECTIONS_AT_MOST = 256


def projection_ids(keys: Sequence[ValueKeys], inputs: Iterable[str]) -> list[int]:
    """A number for each situation of `keys` by its values at `inputs`: equal numbers, equal values there.

    Worked out in one pass of C iterators, and kept per (situations, inputs):
    the cities of a national tree written from one model read the same
    inputs of the same situations, so most policies find their numbers made.
    """
    inputs = tuple(inputs)
    memo_key = (id(keys), frozenset(inputs))
    found = _PROJECTIONS.get(memo_key)
    if found is not None and found[0] is keys:    # (the entry holds `keys`: its id is not another list's)
        return found[1]
    if inputs:
        numbers: dict = {}
        ids = list(map(numbers.setdefault, map(itemgetter(*inputs), keys), count()))
    else:
        ids = [0] * len(keys)
    if len(_PROJECTIONS) >= _PROJECTIONS_AT_MOST:
        _PROJECTIONS.clear()
    _PROJECTIONS[memo_key] = (keys, ids)
    return ids


class SeenReads:
    """Which of a list of situations (their `ValueKeys`) hold, at the inputs read so far, what a situation
    decided before holds.

    A situation decided with a complete recording becomes a representative
    once the inputs it read are all among `inputs`. A later situation with the
    same values at every one of `inputs` holds, in particular, the values the
    representative read, so it would be decided as the representative was.
    When a decision reads a new input, `inputs` grows and the representatives
    are numbered again: comparing by more inputs only splits them, never
    merges. Comparing by the union of the inputs read — one number per
    situation (`projection_ids`) — skips as many of the static checks'
    situations as comparing each decision's own reads did, at a fraction of
    the cost.
    """

    def __init__(self, keys: Sequence[ValueKeys]):
        self.keys = keys
        self.inputs: dict[str, None] = {}        # insertion-ordered set
        self._ids: list[int] = []                # each situation's number at `inputs`
        self._seen: set[int] = set()             # the representatives' numbers
        self._representatives: list[int] = []    # their indexes
        self._covered: set[frozenset[str]] = set()   # read sets already among `inputs`
        self.skipped = 0

    def seen(self, index: int) -> bool:
        """Whether an earlier situation holds situation `index`'s values at every input read so far."""
        if self._representatives and self._ids[index] in self._seen:
            self.skipped += 1
            return True
        return False

    def next_unseen(self, start: int, stop: int) -> int:
        """The first index from `start` (before `stop`, else `stop`) of a situation `seen` is false for, the ones
        before it counted as skipped: one pass of C iterators over the ~3,000 situations a policy skips."""
        if not self._representatives:
            return start
        unseen = map(not_, map(self._seen.__contains__, map(self._ids.__getitem__, range(start, stop))))
        found = next(compress(count(start), unseen), stop)
        self.skipped += found - start
        return found

    def add(self, document: TrackedDocument, index: int) -> None:
        """Make situation `index`, just decided, a representative (not if its recording is incomplete)."""
        if document.complete:
            self.add_reads(document.reads.keys(), index)

    def add_reads(self, reads: Iterable[str], index: int) -> None:
        """Make situation `index`, just decided, a representative: `reads`, every key its decision can have read."""
        known = isinstance(reads, frozenset)     # one set per program: compared with `inputs` once
        if not (known and reads in self._covered):
            if not self._ids or not self.inputs.keys() >= reads:
                self.inputs.update(dict.fromkeys(reads))
                self._ids = projection_ids(self.keys, self.inputs)
                self._seen = {self._ids[r] for r in self._representatives}
            if known:
                self._covered.add(reads)
        self._representatives.append(index)
        self._seen.add(self._ids[index])
