"""The Henan decision of `bench/handwritten_henan.py`, formulated in three peer rule engines.

Each module exposes `prepare()` (build or compile once: load the rules, pre-parse the
expressions) and `decide(prepared, flat) -> dict` returning the same fields as
`handwritten_henan.decide(flat)`; `decide` is `convert` (the flat document into the
peer's input format) then `evaluate` (the peer alone) then the peer's result back into
the hand-written function's shape. `bench/run.py` checks the answers and times them.
The peers are optional (`pip install .[bench]`) and never runtime dependencies of yidi.

- `zen_jdm`: GoRules zen-engine, a JSON Decision Model graph (expression nodes and
  decision tables in the ZEN expression language).
- `simpleeval_exprs`: simpleeval, a sequence of named expressions parsed once.
- `jsonlogic_rules`: JsonLogic (panzi-json-logic), a sequence of named rules.
"""
