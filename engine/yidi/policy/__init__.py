"""Policies: loading YAML into the model, layering national → province → city, compiling, caching, clause coverage."""
