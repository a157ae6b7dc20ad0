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

from collections.abc import Iterable
from operator import itemgetter
from typing import Any

_MISSING = object()     # the value of an input the document does not have


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

    # Whatever reads the document as a whole could depend on any key: the recording no longer says what was read.
    def _whole(self):
        self.complete = False

    def __iter__(self):
        self._whole()
        return dict.__iter__(self)

    def keys(self):
        self._whole()
        return dict.keys(self)

    def values(self):
        self._whole()
        return dict.values(self)

    def items(self):
        self._whole()
        return dict.items(self)

    def copy(self):
        self._whole()
        return dict(dict.items(self))

    def __len__(self):
        self._whole()
        return dict.__len__(self)

    def __eq__(self, other):
        self._whole()
        return dict.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __setitem__(self, key, value):
        self._whole()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key):
        self._whole()
        dict.__delitem__(self, key)

    def setdefault(self, key, default=None):
        self._whole()
        return dict.setdefault(self, key, default)

    def pop(self, key, *default):
        self._whole()
        return dict.pop(self, key, *default)

    def update(self, *args, **kwargs):
        self._whole()
        dict.update(self, *args, **kwargs)

    def __reduce__(self):
        self._whole()
        return (dict, (dict(dict.items(self)),))


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


def value_keys(document: dict[str, Any], numbers: dict[Any, int]) -> ValueKeys:
    """`ValueKeys` of a flat document, computed once for a situation that may be skipped.

    Values are numbered through `numbers` (value key → number, filled as
    needed): documents compared with each other must share it. A tuple of small
    ints hashes and compares far sooner than one of (type, value) pairs.
    """
    keys = ValueKeys()
    for name, value in document.items():
        key = value_key(value)
        number = numbers.get(key)
        if number is None:
            number = numbers[key] = len(numbers)
        keys[name] = number
    return keys


def _no_inputs(keys: ValueKeys) -> tuple:
    return ()


class SeenReads:
    """The situations decided so far, by the values they hold at the inputs any of them read.

    A situation decided with a complete recording becomes a representative
    once the inputs it read are all among `inputs`. A later situation with the
    same values at every one of `inputs` holds, in particular, the values the
    representative read, so it would be decided as the representative was.
    When a decision reads a new input, `inputs` grows and the representatives
    are keyed again: keying by more inputs only splits them, never merges.
    Comparing by the union of the inputs read (one tuple per situation, built
    in C) skips as many of the static checks' situations as comparing each
    decision's own reads did, at a fraction of the cost.
    """

    def __init__(self) -> None:
        self.inputs: dict[str, None] = {}        # insertion-ordered set
        self._key: Any = _no_inputs              # values at `inputs`, as a tuple (a value, if only one)
        self._seen: set = set()
        self._representatives: list[ValueKeys] = []
        self._covered: set[frozenset[str]] = set()   # read sets already among `inputs`
        self.skipped = 0

    def seen(self, keys: ValueKeys) -> bool:
        """Whether an earlier situation holds this one's values at every input read so far."""
        if self._representatives and self._key(keys) in self._seen:
            self.skipped += 1
            return True
        return False

    def add(self, document: TrackedDocument, keys: ValueKeys) -> None:
        """Make a situation just decided a representative (not if its recording is incomplete)."""
        if document.complete:
            self.add_reads(document.reads.keys(), keys)

    def add_reads(self, reads: Iterable[str], keys: ValueKeys) -> None:
        """Make a situation just decided a representative: `reads`, every key its decision can have read."""
        known = isinstance(reads, frozenset)     # one set per program: compared with `inputs` once
        if not (known and reads in self._covered):
            if not self.inputs.keys() >= reads:
                self.inputs.update(dict.fromkeys(reads))
                self._key = itemgetter(*self.inputs)
                self._seen = {self._key(k) for k in self._representatives}
            if known:
                self._covered.add(reads)
        self._representatives.append(keys)
        self._seen.add(self._key(keys))
