"""The workbench in a real browser, used as an officer would: headless Chromium driven by Playwright.

A real `yidi serve` (national and Henan policies, the built docs site at
/docs/) and Debian's chromium. Controls are found by their Chinese labels
and roles, so these tests also prove the controls are labelled. Every page
is watched: a JavaScript error, or a request to anywhere but the server,
fails the test. Screenshots go to build/test-artefacts/workbench/.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from yidi.audit import read_log

from .browser_support import artefact, browser, needs_browser  # noqa: F401  (browser is a fixture)
from .conftest import EXAMPLES
from .conftest import built_site
from .server_support import Server, copy_policies

pytestmark = needs_browser

NEWBORN = json.loads((EXAMPLES / "henan-newborn.claim.json").read_text(encoding="utf-8"))
REFERRAL_ID = "EX-HN-REFERRAL"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("workbench")
    site = built_site(tmp_path_factory) / "site"
    running = Server(work, copy_policies(work / "policies"), args=("--docs-site", str(site))).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def http(server):
    with server.client() as client:
        yield client


def open_page(browser, server, width=1280, height=900):
    """A fresh page that records every request and every JavaScript error."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.requests = []
    page.errors = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: page.errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    return context, page


@pytest.fixture
def page(browser, server):
    context, page = open_page(browser, server)
    yield page
    outside = [url for url in page.requests if not url.startswith((server.url, "data:"))]
    context.close()
    assert not outside, f"the page fetched from elsewhere: {outside}"
    assert not page.errors, page.errors


def start(page, server):
    page.goto(server.url + "/")
    expect(page.locator("body.ready")).to_be_attached()


def claim_form(page):
    return page.get_by_role("form", name="结算申请")


def decide(page, form):
    form.get_by_role("button", name="决定", exact=True).click()


def card(page):
    return page.locator("#claim-result article.decision")


def fact(scope, field):
    return scope.locator(f".fact[data-field='{field}'] dd")


def fill_newborn_by_hand(form):
    """The shipped newborn example, typed field by field as an officer would."""
    form.get_by_label("申请编号").fill(NEWBORN["id"])
    form.get_by_label("参保地", exact=True).fill(NEWBORN["insured"]["region"])
    form.get_by_label("险种").select_option(label="城乡居民医保（resident）")
    form.get_by_label("出生日期").fill(NEWBORN["insured"]["birth_date"])
    form.get_by_label("就医类型").select_option(label="住院（inpatient）")
    form.get_by_label("就医地", exact=True).fill(NEWBORN["visit"]["region"])
    form.get_by_label("联网定点").check()
    form.get_by_label("医院等级").select_option(label="3 三级")
    form.get_by_label("入院日期").fill(NEWBORN["visit"]["admission_date"])
    form.get_by_label("出院日期").fill(NEWBORN["visit"]["discharge_date"])
    form.get_by_label("医疗费总额").fill("18000.00")
    form.get_by_label("符合范围金额").fill("15000.00")


def test_the_workbench_is_in_chinese_with_the_regions_from_the_api(page, server, http):
    start(page, server)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name=re.compile("yidi 工作台"))).to_be_visible()
    for name in ("决定试算", "备案办理", "参数"):
        expect(page.get_by_role("tab", name=name)).to_be_visible()
    regions = http.get("/v1/regions").json()["regions"]
    options = page.locator("#claim-region option")
    expect(options).to_have_count(len(regions) + 1)
    for region in regions:
        expect(options.filter(has_text=f"{region['name']}（{region['region']}）")).to_have_count(1)
    expect(page.get_by_text(f"政策版本 {http.get('/v1/regions').json()['revision']}")).to_be_visible()
    # Every control of every form has a label (by <label for>, or an aria-label on the form itself).
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter((c) => c.type !== 'hidden' && !(c.labels && c.labels.length) && !c.getAttribute('aria-label'))
        .map((c) => c.id || c.outerHTML)""")
    assert unlabelled == []


def test_the_newborn_example_typed_in_is_decided_with_its_clause_and_logged_as_the_workbench(page, server, http):
    start(page, server)
    form = claim_form(page)
    fill_newborn_by_hand(form)
    form.get_by_label("符合范围金额").press("Enter")               # submitted from the keyboard
    decision = card(page)
    expect(decision).to_be_visible()
    expected = http.post("/v1/evaluate", json=NEWBORN).json()
    assert expected["treatment"] == "emergency"
    expect(decision.get_by_role("heading", level=3)).to_have_text("结算决定 · EX-HN-NEWBORN")
    expect(fact(decision, "treatment")).to_have_text("临时外出急诊待遇 emergency")
    expect(fact(decision, "filing_status")).to_have_text("未备案 absent")
    expect(fact(decision, "reduction_pp")).to_have_text(f"{expected['reduction_pp']} 个百分点")
    expect(fact(decision, "amounts.fund")).to_have_text(f"{float(expected['amounts']['fund']):,.2f} 元")
    # 二（三） gives the emergency standard, not a deemed filing: unfiled and not an emergency admission → reimbursed at home
    expect(fact(decision, "route")).to_have_text("回参保地手工报销 manual")

    # Intermediate results read in Chinese too: the policy's own title for its variable.
    expect(page.locator("ol.trace > li[data-rule='henan.newborn'] .sets strong")).to_have_text("新生儿（入院时出生0—28天）")
    step = page.locator("ol.trace > li[data-rule='henan.newborn-as-emergency']")
    expect(step.locator("cite")).to_have_text("豫医保办〔2025〕2号 二（三）")
    expect(step.locator("blockquote")).to_contain_text("参照临时外出急诊就医待遇标准执行")
    link = step.get_by_role("link", name="在文档站点查看规则 henan.newborn-as-emergency")
    expect(link).to_have_attribute("href", "docs/policies/henan/#rule-henan-newborn-as-emergency")
    steps = page.locator("ol.trace > li")
    expect(steps).to_have_count(len(expected["trace"]))
    expect(steps.first).to_have_attribute("data-rule", expected["trace"][0]["rule"])

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways at 1280 px"
    page.locator("#claim-result").screenshot(path=str(artefact("workbench", "decision-card-with-trace.png")))
    page.screenshot(path=str(artefact("workbench", "decision-page-1280.png")), full_page=True)

    # The decision went through the same log as any other, marked as coming from the workbench.
    records = [entry for _, entry in read_log(server.audit)]
    mine = [r for r in records if r["input"].get("id") == "EX-HN-NEWBORN" and r.get("client") == "workbench"]
    assert len(mine) == 1 and mine[0]["decision"]["treatment"] == "emergency"
    assert mine[0]["input"]["insured"] == NEWBORN["insured"]

    # The rule's link opens its place on the generated documentation site.
    link.click()
    expect(page.locator("#rule-henan-newborn-as-emergency")).to_be_visible()
    expect(page.locator("#rule-henan-newborn-as-emergency")).to_contain_text("新生儿")


def test_flipping_emergency_re_decides_and_shows_what_changed(page, server):
    start(page, server)
    page.get_by_label("从示例开始").first.select_option(label="河南参保新生儿（出生第8天）在北京住院，未备案")
    form = claim_form(page)
    form.get_by_label("出生日期").fill("")                         # no longer a newborn: unfiled
    decide(page, form)
    expect(fact(card(page), "treatment")).to_have_text("未备案（非急诊、未转诊） unfiled")

    whatif = page.get_by_role("form", name="假如")
    whatif.get_by_label("急诊抢救").check()
    comparison = page.locator("#whatif-result .comparison")
    expect(comparison.locator("ul.conditions > li")).to_have_text(["就医 › 急诊抢救：否 → 是"])
    treatment = comparison.locator("tr[data-field='treatment']")
    expect(treatment.locator("td.before")).to_have_text("未备案（非急诊、未转诊） unfiled")
    expect(treatment.locator("td.after")).to_have_text("临时外出急诊待遇 emergency")
    expect(treatment).to_contain_text("national.treatment-emergency")
    expect(treatment).to_contain_text("医保发〔2022〕22号")
    reduction = comparison.locator("tr[data-field='reduction_pp']")
    expect(reduction.locator("td.before")).to_have_text("20 个百分点")
    expect(reduction.locator("td.after")).to_have_text("10 个百分点")
    expect(comparison.locator("tr[data-field='route'] td.after")).to_have_text("直接结算 direct")
    expect(comparison.locator(".rule-diff")).to_contain_text("national.reduction-emergency")
    page.locator("#whatif").screenshot(path=str(artefact("workbench", "what-if-comparison.png")))

    whatif.get_by_label("急诊抢救").uncheck()                      # back as it was: nothing differs
    expect(comparison.get_by_role("heading", level=3)).to_have_text("两次决定完全相同")


def test_a_shared_link_reproduces_the_decision(browser, page, server):
    start(page, server)
    page.get_by_label("从示例开始").first.select_option(label="河南职工转诊备案，在北京住院")
    decide(page, claim_form(page))
    expect(card(page)).to_be_visible()
    link = page.get_by_label("分享这个决定").input_value()
    assert link.startswith(server.url + "/#claim=") and "rev=" in link
    facts_here = card(page).locator(".facts").inner_text()

    context, colleague = open_page(browser, server)
    try:
        colleague.goto(link)
        theirs = colleague.locator("#claim-result article.decision")
        expect(theirs.get_by_role("heading", level=3)).to_have_text(f"结算决定 · {REFERRAL_ID}")
        assert theirs.locator(".facts").inner_text() == facts_here
        expect(claim_form(colleague).get_by_label("申请编号")).to_have_value(REFERRAL_ID)
        expect(colleague.locator("#claim-status")).not_to_contain_text("注意")   # same policy revision
        assert not colleague.errors, colleague.errors
    finally:
        context.close()
    logged = [entry for _, entry in read_log(server.audit) if entry["input"].get("id") == REFERRAL_ID]
    assert len(logged) == 2 and logged[0]["input_sha256"] == logged[1]["input_sha256"]


def test_invalid_dates_are_reported_beside_their_fields(page, server):
    start(page, server)
    page.get_by_label("从示例开始").first.select_option(label="河南参保新生儿（出生第8天）在北京住院，未备案")
    form = claim_form(page)
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/v1/evaluate" in request.url else None)
    discharge = form.get_by_label("出院日期")
    beside = form.locator("[data-field='visit.discharge_date'] .error")

    discharge.fill("2025-02-30")                                  # no such day: the schema's own rule, in the page
    decide(page, form)
    expect(beside).to_have_text("日期不存在：2025-02-30")
    expect(discharge).to_have_attribute("aria-invalid", "true")
    expect(discharge).to_be_focused()
    expect(form.locator(".summary")).to_contain_text("有 1 处需要修改")
    assert sent == []                                             # nothing was sent

    discharge.fill("2025-07-01")                                  # a real day, before admission: the server says so
    decide(page, form)
    expect(beside).to_contain_text("不能早于入院日期")
    expect(page.locator("#claim-status")).to_contain_text("输入有误（1 处）")
    assert len(sent) == 1
    form.screenshot(path=str(artefact("workbench", "invalid-date-beside-field.png")))


def test_a_filing_request_shows_its_earliest_date_on_a_timeline(page, server):
    start(page, server)
    page.get_by_role("tab", name="备案办理").click()
    page.get_by_label("从示例开始").nth(1).select_option(label="承诺制备案未补材料，4个月后申请取消")
    page.get_by_role("form", name="备案办理申请").get_by_role("button", name="办理").click()
    answer = page.locator("#filing-result article.filing")
    expect(answer.locator(".headline")).to_contain_text("不允许办理")
    expect(fact(answer, "earliest_date")).to_have_text("2025-12-01")
    figure = answer.locator("figure.timeline-figure")
    expect(figure.locator("figcaption")).to_contain_text("最早可办理：2025-12-01")
    expect(figure.locator("figcaption")).to_contain_text("申请日期：2025-10-20")
    expect(figure.locator("svg[role=img]")).to_have_attribute("aria-label", re.compile("最早可办理：2025-12-01"))
    expect(page.locator("ol.trace > li[data-rule='henan.commitment-lock-until'] cite")).to_have_text("豫医保办〔2025〕2号 一（二）")
    page.locator("#filing-result").screenshot(path=str(artefact("workbench", "filing-timeline.png")))


def test_parameters_in_force_with_their_clauses_and_dates(page, server):
    start(page, server)
    page.get_by_role("tab", name="参数").click()
    form = page.get_by_role("form", name="参数查询")
    form.get_by_label("参保地").fill("410100")
    form.get_by_label("日期").fill("2025-13-01")
    form.get_by_role("button", name="查询参数").click()
    expect(form.locator("#parameters-on-error")).to_have_text("日期应为真实存在的 YYYY-MM-DD")
    form.get_by_label("日期").fill("2025-06-01")
    form.get_by_role("button", name="查询参数").click()
    row = page.locator("tr[data-parameter='newborn_max_age_days']")
    expect(row).to_contain_text("新生儿年龄上限")
    expect(row.locator("td").nth(0)).to_have_text("28")
    expect(row.locator("cite")).to_have_text("豫医保办〔2025〕2号 二（三）")
    expect(row.locator("td").nth(2)).to_have_text("2025-01-01 起，至今有效")
    assert "#parameters=410100%402025-06-01" in page.url


def test_a_partial_decision_names_what_is_undetermined_and_why(page, server, http):
    """Contract §2.1, from the engine itself: Guangzhou has only the national rules in the tree."""
    start(page, server)
    page.get_by_label("从示例开始").first.select_option(label="广州参保人在北京急诊住院（只有国家规则：部分决定）")
    decide(page, claim_form(page))
    decision = card(page)
    expected = http.post("/v1/evaluate", json=json.loads((EXAMPLES / "guangzhou-emergency.claim.json").read_text(encoding="utf-8"))).json()
    expect(fact(decision, "treatment")).to_have_text("临时外出急诊待遇 emergency")   # what the law decides is still shown
    expect(fact(decision, "filing_status")).to_have_text("视同已备案 deemed")
    expect(fact(decision, "reduction_pp")).to_have_text("未决定（原因见下）")
    expect(fact(decision, "ratio")).to_have_text("未决定（原因见下）")
    listed = decision.locator(".undetermined-list")
    expect(listed.get_by_role("heading")).to_have_text(f"未能决定的项目（{len(expected['undetermined'])}）")
    item = listed.locator("li[data-output='reduction_pp']")
    expect(item).to_contain_text("降低百分点")
    expect(item.locator(".reason")).to_have_text(expected["undetermined"][0]["reason"])
    expect(item.locator(".reason")).to_contain_text("参保地 440100 没有政策文件")
    expect(item.locator("cite")).to_have_text("医保发〔2022〕22号 六")


def test_when_the_policy_cannot_decide_the_page_says_so(page, server):
    body = {"error": "rule-conflict", "message": "规则冲突：henan.planted-conflict 与 national.route-direct 同时适用",
            "rules": ["henan.planted-conflict", "national.route-direct"], "where": ["policies/henan/policy.yaml:9"], "revision": "x"}
    page.route("**/v1/evaluate", lambda route: route.fulfill(status=409, content_type="application/json", body=json.dumps(body)))
    start(page, server)
    page.get_by_label("从示例开始").first.select_option(label="河南参保新生儿（出生第8天）在北京住院，未备案")
    decide(page, claim_form(page))
    alert = page.locator("#claim-result [role=alert]")
    expect(alert.get_by_role("heading")).to_have_text("政策无法作出决定")
    expect(alert).to_contain_text("规则冲突")
    expect(alert).to_contain_text("henan.planted-conflict")
    expect(page.locator("#whatif")).to_be_hidden()


def test_keyboard_tabs_json_tab_and_a_phone_width_window(browser, server):
    context, page = open_page(browser, server, width=390, height=844)
    try:
        start(page, server)
        tab = page.get_by_role("tab", name="决定试算")
        tab.focus()
        page.keyboard.press("ArrowRight")
        expect(page.get_by_role("tab", name="备案办理")).to_be_focused()
        expect(page.get_by_role("tab", name="备案办理")).to_have_attribute("aria-selected", "true")
        expect(page.locator("#panel-filing")).to_be_visible()
        page.keyboard.press("ArrowLeft")
        expect(page.locator("#panel-claim")).to_be_visible()

        # The JSON tab shows the document and takes a pasted one.
        form = claim_form(page)
        form.get_by_role("tab", name="JSON").click()
        form.get_by_label("JSON 文档").fill(json.dumps(NEWBORN, ensure_ascii=False))
        form.get_by_label("JSON 文档").press("Control+Enter")
        expect(fact(card(page), "treatment")).to_have_text("临时外出急诊待遇 emergency")
        form.get_by_role("tab", name="表单").click()
        expect(form.get_by_label("出生日期")).to_have_value(NEWBORN["insured"]["birth_date"])

        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways at 390 px"
        page.screenshot(path=str(artefact("workbench", "decision-phone-390.png")), full_page=True)
        assert not page.errors, page.errors
    finally:
        context.close()
