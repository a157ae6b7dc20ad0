"""The documentation site, generated from the policy files (`yidi docs`).

Pages are written from the compiled policies — documents, benefit tables,
filing rules, reductions by treatment standard, every rule with its
condition in Chinese, the clause-coverage matrix, interpretations, test
cases — and a comparison that runs the same situations through every
region's policy. Nothing region-specific is written by hand, so a new region
gets its pages by existing. MkDocs (built-in theme and search) renders them:

    site.generate(out, policies_root)  → out/docs/*.md, out/nav.yml, out/mkdocs.yml
    site.build(out / "mkdocs.yml")     → out/site/
"""
