#!/usr/bin/env bash
# Policy CI recipe (docs/ci-recipe.md): validate, test, and measure a policy change.
#
#   scripts/policy-ci.sh [BASE_REV] [REPORT.md]
#
# Runs, from the repository root:
#   1. yidi validate                      — the policies are well-formed and cite their clauses
#   2. yidi test                          — every policy's YAML test cases pass
#   3. yidi synth + yidi diff git:BASE_REV:policies policies
#                                         — how many decisions the change moves, and the fund delta
# and writes one Markdown report (default policy-report.md) to post on the change request.
# The report is written even when a step fails; the exit code is 1 if validate, test or diff failed.
#
# Environment: YIDI_CI_CLAIMS (synthetic claims, default 20000), YIDI_CI_SEED (default 1),
# YIDI (the command, default `yidi`, else `python -m yidi`).
set -uo pipefail

base="${1:-${YIDI_BASE:-origin/main}}"
report="${2:-policy-report.md}"
claims_n="${YIDI_CI_CLAIMS:-20000}"
seed="${YIDI_CI_SEED:-1}"
if [ -n "${YIDI:-}" ]; then yidi_cmd=($YIDI)
elif command -v yidi >/dev/null 2>&1; then yidi_cmd=(yidi)
else yidi_cmd=(python -m yidi); fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0

"${yidi_cmd[@]}" validate >"$work/validate.txt" 2>&1; validate_rc=$?
"${yidi_cmd[@]}" test >"$work/test.txt" 2>&1; test_rc=$?
"${yidi_cmd[@]}" synth --n "$claims_n" --seed "$seed" -o "$work/claims.jsonl" 2>"$work/synth.txt"; synth_rc=$?
diff_rc=1
if [ "$synth_rc" -eq 0 ]; then
  "${yidi_cmd[@]}" diff "git:$base:policies" policies --claims "$work/claims.jsonl" \
    --markdown "$work/diff.md" --changes "$work/changes.jsonl" --no-progress >"$work/diff.txt" 2>&1; diff_rc=$?
fi
[ "$validate_rc" -eq 0 ] && [ "$test_rc" -eq 0 ] && [ "$diff_rc" -eq 0 ] || status=1

mark() { if [ "$1" -eq 0 ]; then echo "通过"; else echo "**未通过**"; fi; }
{
  echo "# 政策检查报告"
  echo
  echo "- 基准版本：\`$base\`（$(git rev-parse --short "$base" 2>/dev/null || echo 未知)）"
  echo "- 当前版本：\`$(git rev-parse --short HEAD 2>/dev/null || echo 工作区)\`$(git diff --quiet -- policies 2>/dev/null || echo '（含未提交的修改）')"
  echo "- 合成结算申请：$claims_n 份（种子 $seed）"
  echo
  echo "| 步骤 | 结果 |"
  echo "|---|---|"
  echo "| yidi validate | $(mark "$validate_rc") |"
  echo "| yidi test | $(mark "$test_rc") |"
  echo "| yidi diff | $(mark "$diff_rc") |"
  echo
  echo "## yidi validate"
  echo; echo '```text'; tail -n 80 "$work/validate.txt"; echo '```'; echo
  echo "## yidi test"
  echo; echo '```text'; tail -n 80 "$work/test.txt"; echo '```'; echo
  if [ -s "$work/diff.md" ]; then
    sed -e 's/^#/##/' "$work/diff.md"          # one heading level down, under this report's title
  else
    echo "## yidi diff"
    echo; echo '```text'; tail -n 40 "$work/diff.txt" "$work/synth.txt"; echo '```'
  fi
} >"$report"

echo "policy-ci: report written to $report (validate $validate_rc, test $test_rc, diff $diff_rc)" >&2
exit "$status"
