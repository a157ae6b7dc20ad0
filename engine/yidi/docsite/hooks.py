"""MkDocs hooks for the generated site (named in mkdocs.yml under `hooks:`).

* `on_config`: the navigation comes from `nav.yml` beside the docs folder,
  written by `yidi docs`, so a new region appears in the menu without
  anyone editing mkdocs.yml. Heading ids keep their Chinese (`#待遇表`, not
  `#_3`) and never start with a digit: "河南省（410000）" would otherwise
  become `#410000`, which is not a CSS selector, and the theme's scrollspy
  then throws and stops the page's scripts.
* `on_post_page`: the theme's interface is Chinese through its zh_CN
  translations (MkDocs needs `babel` for them: the docs and test extras
  install `mkdocs[i18n]`); the one label the theme does not translate (the
  navigation toggle's `aria-label`) is replaced here, in pages and in 404.html.
* `on_post_build`: make the built-in search understand Chinese, by appending
  `cjk-search.js` to the `search/lunr.zh.js` the search plugin copied (why:
  see that file). It runs after the search plugin (lower priority).
"""

from __future__ import annotations

import pathlib
import re

import yaml
from markdown.extensions.toc import slugify_unicode
from mkdocs.plugins import event_priority

HERE = pathlib.Path(__file__).resolve().parent
NAV_FILE = "nav.yml"
SHIM = HERE / "cjk-search.js"


def slugify(value: str, separator: str) -> str:
    slug = slugify_unicode(value, separator)
    return slug if re.match(r"[^\W\d_]", slug) else "h" + separator + slug


def on_config(config, **kwargs):
    config["mdx_configs"].setdefault("toc", {})["slugify"] = slugify
    if config.get("nav") is None:
        nav_file = pathlib.Path(config["docs_dir"]).parent / NAV_FILE
        if nav_file.is_file():
            config["nav"] = yaml.safe_load(nav_file.read_text(encoding="utf-8"))
    return config


# Interface text the theme writes without a translation: (English, Chinese).
UNTRANSLATED = (('aria-label="Toggle navigation"', 'aria-label="展开或收起导航"'),)


def on_post_page(output: str, **kwargs) -> str:
    for english, chinese in UNTRANSLATED:
        output = output.replace(english, chinese)
    return output


def on_post_template(output_content: str, **kwargs) -> str:
    """The same for the pages built from templates alone (404.html)."""
    return on_post_page(output_content)


@event_priority(-100)
def on_post_build(config, **kwargs):
    target = pathlib.Path(config["site_dir"]) / "search" / "lunr.zh.js"
    if target.is_file():
        text = target.read_text(encoding="utf-8")
        if "lunr.yidiCjk" not in text:
            target.write_text(text + "\n" + SHIM.read_text(encoding="utf-8"), encoding="utf-8")
