"""The documentation site: generated from the policies, readable, built by MkDocs --strict."""

from __future__ import annotations

import datetime
import html
import json
import pathlib
import re

import pytest
import yaml

from yidi import Engine
from yidi.cli import main
from yidi.docsite import facts
from yidi.docsite.compare import SITUATIONS
from yidi.docsite.exprtext import Namer, render
from yidi.docsite.pages import Untranslatable
from yidi.docsite.site import SETTINGS, OutputNotOurs, build, generate, handbook_dir
from yidi.docsite.svg import describe

from .conftest import AS_OF, POLICIES, ROOT, built_site

@pytest.fixture(scope="module")
def site(tmp_path_factory) -> pathlib.Path:
    return built_site(tmp_path_factory)


def page(site: pathlib.Path, name: str) -> str:
    return (site / "docs" / name).read_text(encoding="utf-8")


# ── expressions in words ───────────────────────────────────────────────────────
NAMER = Namer({"reduction.referral": "异地转诊人员支付比例降低（百分点）"}, {"newborn": "新生儿（入院时出生0—28天）"})


def words(text: str, sets: str | None = None) -> str | None:
    return render(text, NAMER, sets).text


def test_operators_and_field_names_become_chinese():
    assert words('visit.emergency and not visit.networked') == "急诊抢救 且 非联网定点"
    assert words('scope != "local" or newborn') == "就医范围不为“本地就医” 或 新生儿"
    assert words('filing == null') == "无备案"
    assert words('filing.type in ["referral", "emergency"]') == "备案人员类别为“异地转诊就医人员”、“异地急诊抢救人员”之一"
    assert words('treatment == "unfiled"') == "待遇标准为“未备案（非急诊、未转诊）”"
    assert words("param.reduction.referral") == "「异地转诊人员支付比例降低（百分点）」"
    assert words("emergency", sets="treatment") == "“临时外出急诊待遇”"


def test_brackets_keep_the_meaning():
    assert words("a_x or b_y and c_z".replace("a_x", "visit.emergency").replace("b_y", "visit.referral").replace("c_z", "newborn")) \
        == "急诊抢救 或 （转诊转院 且 新生儿）"
    assert words("not (visit.emergency or visit.referral)") == "非（急诊抢救 或 转诊转院）"
    assert words("costs.total - (costs.in_scope - 1)") == "医疗费总额 − （符合范围金额 − 1）"


def test_a_comprehension_is_put_into_words():
    """The rule that used to fall back to code (henan.last-commitment-cancel) reads in Chinese."""
    namer = Namer({"filing_types.long_term": "异地长期居住人员的备案类型"})
    shown = render('latest([h.cancelled_on for h in history if h.basis == "commitment" '
                   'and h.type in param.filing_types.long_term and h.supplemented_on == null])', namer)
    assert shown.text == ("历史备案中满足【备案方式为“承诺制” 且 人员类别属于「异地长期居住人员的备案类型」 且 补充材料日期为空】"
                          "者的取消日期中最晚的日期")
    assert render('count([h for h in history if h.cancelled_on != null]) > 0', namer).text == "历史备案中满足【取消日期不为空】者的个数 ＞ 0"


def test_when_unsure_the_renderer_says_so():
    computed = "count([d for d in [visit.admission_date, visit.discharge_date] if d > filing.start_date]) > 0"
    assert render(computed, NAMER).text is None                           # a comprehension over a computed list
    assert render("visit.emergency and (", NAMER).text is None          # not even an expression
    assert "`visit.kidn`" in words("visit.kidn == 1")                   # an unknown name stays code


def test_the_docs_build_fails_on_an_expression_it_cannot_put_into_words(tmp_path, policy_copy):
    """Planted: a valid rule whose condition the renderer has no faithful words for."""
    from .conftest import write_city

    path = write_city(policy_copy, """\
        rules:
          - id: zhengzhou.computed-list
            title: 示例：入院或出院在备案开始之后
            sets: flags.audit_referral_eligible
            when: count([d for d in [visit.admission_date, visit.discharge_date] if filing != null and d > filing.start_date]) > 0
            value: true
            overrides: [henan.audit-referral]
            source: {document: 郑医保〔2025〕1号, clause: 一}
        """)
    Engine.load(policy_copy)                                             # a valid policy
    out = tmp_path / "site"
    code = main(["docs", "--out", str(out), "--policies", str(policy_copy), "--no-handbook", "--format", "json"])
    assert code == 1
    assert not (out / "docs" / "policies" / "zhengzhou.md").exists()
    with pytest.raises(Untranslatable) as info:
        generate(tmp_path / "again", policy_copy, AS_OF)
    d = info.value.diagnostic
    assert d.code == "untranslatable-expression" and d.file.endswith("henan/zhengzhou/policy.yaml") and "zhengzhou.computed-list" in d.message_zh
    assert d.line == next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "zhengzhou.computed-list" in line)


def test_a_guard_says_so_on_its_page(site, engine):
    guarded = [r for c in engine.policies.policies.values() for r in c.layered.rules if r.guard and r.policy_id == c.id]
    assert guarded                                           # the shipped tree has one (hubei's level restriction)
    for rule in guarded:
        assert f"防护规则（现行取值下不会适用）：{rule.guard}" in page(site, f"policies/{rule.policy_id}.md")


def test_every_shipped_rule_reads_in_chinese(site):
    for page_file in (site / "docs" / "policies").glob("*.md"):
        text = page_file.read_text(encoding="utf-8")
        assert "按原文" not in text and "无法可靠" not in text, page_file.name


# ── facts taken from the policies ──────────────────────────────────────────────
def test_insured_regions_select_their_own_policy(engine):
    for policy_id in engine.policies.policies:
        region = facts.insured_region(engine.policies, policy_id)
        assert region is not None and engine.policies.for_region(region)[0].id == policy_id


def test_reductions_by_treatment_come_from_the_rules(engine):
    compiled = engine.policies.policies["henan"]
    rows, others = facts.reductions(compiled)
    by = {r.treatment: r for r in rows}
    assert list(by) == ["local", "long_term", "referral", "emergency", "other_temporary", "unfiled"]
    for treatment, name in (("other_temporary", "reduction.other_temporary"), ("referral", "reduction.referral")):
        assert by[treatment].parameter is compiled.layered.parameters[name]          # the values the policy gives
    assert by["unfiled"].parameter.values and all(v.source for v in by["other_temporary"].values)
    assert {"henan.commitment-home-reduction"} <= {r.rule.id for r in others}


def test_validity_is_asked_of_the_policy(engine):
    validity = {v.filing_type: v for v in facts.validities(engine, "henan", AS_OF)}
    assert validity["long_term_resident"].open_ended
    assert validity["other_temporary"].end == datetime.date(2025, 12, 31)


# ── the generated pages ────────────────────────────────────────────────────────
def test_henan_page(site, engine):
    text = page(site, "policies/henan.md")
    henan = engine.policies.policies["henan"].layered
    assert "# 河南省（410000）" in text and all(d.id in text for d in henan.policy.documents)
    for title, name in (("其他临时外出待遇", "reduction.other_temporary"), ("未备案（非急诊、未转诊）", "reduction.unfiled")):
        row = next(line for line in text.splitlines() if line.startswith(f"| {title} |"))
        for v in henan.parameters[name].values:                   # each dated value the policy gives, with its clause's words
            assert f"**{v.value}**（{v.start}" in row and (v.source.says or "") in row
            assert ("※解释" in row) >= bool(v.interpretation)
    assert "⚠ 示例值" in text and "benefit_table_illustrative" in text
    assert "<svg" in text and all(describe(v) in text for v in facts.validities(engine, "henan", AS_OF))
    assert "#### 新生儿（出生0—28天）异地住院，参照临时外出急诊就医待遇标准 {#rule-henan-newborn-as-emergency}" in text
    assert "就医范围不为“本地就医”" in text                                     # a condition in words
    assert "## 条款覆盖" in text and "附件1 温馨提示二" in text and "不编码：" in text
    assert "## 解释" in text and "reduction.unfiled" in text
    assert "## 测试用例 {#tests}" in text and "✗" not in text


def test_every_policy_has_a_page_and_a_menu_entry(site, engine):
    nav = yaml.safe_load((site / "nav.yml").read_text(encoding="utf-8"))
    regions = next(item["各地区政策"] for item in nav if "各地区政策" in item)
    linked = {list(entry.values())[0] for entry in regions}
    assert linked == {f"policies/{pid}.md" for pid in engine.policies.policies}
    assert any("手册" in item for item in nav)                                   # the hand-written docs too
    assert (site / "docs" / "dsl.md").is_file() and "yidi 文档" in page(site, "index.md")


def test_comparison_table(site, engine):
    """One table per situation, a row per region (in Chinese), so every cell stays readable."""
    text = page(site, "compare.md")
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")][:len(SITUATIONS)] == [s.title for s in SITUATIONS]
    tables = text.split('<div class="yidi-compare" markdown="1">')[1:]
    assert len(tables) == len(SITUATIONS) == 7
    for part in tables:
        rows = [line for line in part.split("</div>")[0].splitlines() if line.startswith("| [")]
        assert len(rows) == len(engine.policies.policies) and all(line.count(" | ") == 4 for line in rows)
    newborn = tables[[s.key for s in SITUATIONS].index("newborn")]
    henan = next(line for line in newborn.splitlines() if line.startswith("| [河南省](policies/henan.md)"))
    # 二（三） gives the emergency standard, not a deemed filing: an unfiled newborn is reimbursed at home (interpretation)
    assert [c.strip() for c in henan.split("|")][2:6] == ["临时外出急诊待遇", "10 个百分点", "回参保地手工报销", "依据了解释"]
    # the national baseline leaves the reduction to the insured place: a partial decision, never an engine error
    assert "降低幅度由参保地规定（医保发〔2022〕22号 六）" in text and "无法决定" not in text
    assert "interpretation_applied" not in text and "<br>" not in text


def test_mkdocs_build_strict_with_chinese_search(site):
    html = (site / "site" / "policies" / "henan" / "index.html").read_text(encoding="utf-8")
    assert "支付比例降低（按待遇标准）" in html and "<svg" in html
    index = json.loads((site / "site" / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert index["config"]["lang"] == ["zh", "en"]
    assert any("新生儿" in doc["text"] and doc["location"].startswith("policies/henan/") for doc in index["docs"])
    assert "lunr.yidiCjk" in (site / "site" / "search" / "lunr.zh.js").read_text(encoding="utf-8")
    assert "cdnjs" not in html                                                    # works offline


# The theme's interface words, in English as the theme writes them when its translations are not loaded.
ENGLISH_CHROME = ("Search", "Previous", "Next", "Toggle navigation", "Built with", "Documentation built with",
                  "No results found", "Keyboard Shortcuts", "Close", "Edit on", "Type to start searching",
                  "From here you can search", "Page not found")


def _chrome(html_text: str) -> str:
    """A built page without its content (role=main) and without scripts and comments: what the theme wrote."""
    html_text = re.sub(r"<script.*?</script>|<style.*?</style>|<!--.*?-->", "", html_text, flags=re.S)
    return re.sub(r'role="main">.*?<footer', 'role="main"><footer', html_text, flags=re.S)


def test_the_built_site_speaks_chinese_around_the_content(site):
    """Search box, previous/next, footer, dialogs, labels: Chinese (MkDocs needs babel for the theme's zh_CN)."""
    pages = [site / "site" / "index.html", site / "site" / "404.html", site / "site" / "compare" / "index.html",
             site / "site" / "policies" / "henan" / "index.html"]
    for path in pages:
        chrome = _chrome(path.read_text(encoding="utf-8"))
        visible = html.unescape(re.sub(r"<[^>]+>", "\n", chrome))
        labels = re.findall(r'(?:title|aria-label|placeholder|alt|data-no-results-text)="([^"]*)"', chrome)
        for english in ENGLISH_CHROME:
            assert not re.search(rf"(^|\n)\s*{english}", visible) and not any(english in label for label in labels), (path, english)
        assert 'placeholder="搜索' in chrome and 'data-no-results-text="没有搜索到结果"' in chrome
    home = _chrome((site / "site" / "index.html").read_text(encoding="utf-8"))
    assert "下一" in home and "MkDocs" in home and "建立的文档" in home             # next page, and the footer in Chinese


def test_repository_mkdocs_yml_matches_the_generator():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    for key, value in SETTINGS.items():
        assert config[key] == value, key
    assert (ROOT / config["hooks"][0]).is_file() and config["docs_dir"] == "build/docsite/docs"


def test_generator_refuses_to_wipe_a_foreign_folder(tmp_path):
    (tmp_path / "mine.txt").write_text("not generated", encoding="utf-8")
    with pytest.raises(OutputNotOurs):
        generate(tmp_path, POLICIES, AS_OF)
    assert (tmp_path / "mine.txt").is_file()


def test_a_new_region_appears_without_configuration(tmp_path, policy_copy):
    """Add a city (copied and renamed): it gets its own page, menu entry and comparison column."""
    city = policy_copy / "henan" / "zhengzhou"
    city.mkdir()
    (city / "policy.yaml").write_text(
        "# yaml-language-server: $schema=../../../schemas/policy.schema.json\n"
        "id: zhengzhou\nregion: \"410100\"\nname: 郑州市\nextends: henan\ndocuments: []\n", encoding="utf-8")
    (city / "sources.yaml").write_text("documents: []\n", encoding="utf-8")
    Engine.load(policy_copy)
    config = generate(tmp_path / "out", policy_copy, AS_OF, handbook=None)
    text = (tmp_path / "out" / "docs" / "policies" / "zhengzhou.md").read_text(encoding="utf-8")
    assert "# 郑州市（410100）" in text and "本级规则 0 条" in text
    assert "[郑州市](policies/zhengzhou.md)" in (tmp_path / "out" / "docs" / "compare.md").read_text(encoding="utf-8")
    assert build(config).joinpath("policies", "zhengzhou", "index.html").is_file()
    assert handbook_dir() is not None


def test_api_reference_is_generated_from_docstrings(site):
    html = (site / "site" / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("evaluate_many", "InputError", "DiagnosticError", "EvaluationError"):
        assert name in html
    assert "A compiled, immutable policy set" in html  # the first line of Engine's own docstring
