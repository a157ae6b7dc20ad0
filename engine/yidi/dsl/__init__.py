"""The expression language: grammar → AST (parser) → types (checker) → Python (compiler)."""
