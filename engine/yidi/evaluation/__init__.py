"""Deciding a validated document with a compiled policy set: evaluator, decision shaping, errors."""
