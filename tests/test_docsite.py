"""The documentation site: generated from the policies, readable, built by MkDocs --strict."""

from __future__ import annotations

import datetime
import json
import pathlib

import pytest
import yaml

from yidi import Engine
from yidi.cli import main
from yidi.docsite import facts
from yidi.docsite.compare import SITUATIONS
from yidi.docsite.exprtext import Namer, render
from yidi.docsite.site import SETTINGS, OutputNotOurs, build, generate, handbook_dir
from yidi.docsite.svg import describe

from .conftest import POLICIES, ROOT

AS_OF = datetime.date(2025, 7, 1)
_BUILT: dict[str, pathlib.Path] = {}


def built_site(tmp_path_factory) -> pathlib.Path:
    """Generate and build the site once per test session (the browser test uses it too)."""
    if "out" not in _BUILT:
        out = tmp_path_factory.mktemp("docsite") / "site-project"
        assert main(["docs", "--out", str(out), "--build", "--as-of", AS_OF.isoformat(), "--policies", str(POLICIES)]) == 0
        _BUILT["out"] = out
    return _BUILT["out"]


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


def test_when_unsure_the_expression_is_shown_as_written():
    comprehension = "latest([h.cancelled_on for h in history if h.basis == \"commitment\"])"
    shown = render(comprehension, NAMER)
    assert shown.text is None and shown.code == comprehension
    assert render("visit.emergency and (", NAMER).text is None          # not even an expression
    assert "`visit.kidn`" in words("visit.kidn == 1")                   # an unknown name stays code


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
    text = page(site, "compare.md")
    rows = [line for line in text.splitlines() if any(line.startswith(f"| {s.title} |") for s in SITUATIONS)]
    assert len(rows) == len(SITUATIONS) == 7
    assert all(line.count(" | ") == len(engine.policies.policies) for line in rows)     # one cell per region
    header = next(line for line in text.splitlines() if line.startswith("| 情形"))
    assert header.count("](policies/") == len(engine.policies.policies)
    newborn = next(line for line in text.splitlines() if line.startswith("| 出生8天的新生儿"))
    henan_column = [c.strip() for c in header.split("|")].index("[河南省](policies/henan.md)")
    # 二（三） gives the emergency standard, not a deemed filing: an unfiled newborn is reimbursed at home (interpretation ※)
    assert [c.strip() for c in newborn.split("|")][henan_column] == "临时外出急诊待遇<br>降低 10 个百分点<br>回参保地手工报销 ※"
    # the national baseline leaves the reduction to the insured place: a partial decision, never an engine error
    assert "降低幅度未能确定（由参保地规定：医保发〔2022〕22号 六）" in text and "无法决定" not in text


def test_mkdocs_build_strict_with_chinese_search(site):
    html = (site / "site" / "policies" / "henan" / "index.html").read_text(encoding="utf-8")
    assert "支付比例降低（按待遇标准）" in html and "<svg" in html
    index = json.loads((site / "site" / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert index["config"]["lang"] == ["zh", "en"]
    assert any("新生儿" in doc["text"] and doc["location"].startswith("policies/henan/") for doc in index["docs"])
    assert "lunr.yidiCjk" in (site / "site" / "search" / "lunr.zh.js").read_text(encoding="utf-8")
    assert "cdnjs" not in html                                                    # works offline


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
