#!/usr/bin/env bash
# The newest-SDK lane (.github/workflows/newest-sdks.yml): which Pulumi pins can move, and which break.
#
# In a virtual environment that holds the pinned project (make install), for each of pulumi,
# pulumi-policy, pulumi-kubernetes and pulumi-vault alone, then all four together, it installs the
# newest release over the pin and runs the tests that hold our adapters equal to the SDK
# (`pytest -m sdk_equality`: the pack's servicer, the recording monitor, the speed-ups, the stack walk);
# with all four it then runs the whole suite. It writes a Markdown summary to $SUMMARY (the job summary
# in GitHub Actions) and exits 1 when anything breaks. Each package is tried from the pinned state.
#
#   VENV=.venv SUMMARY=summary.md bash scripts/newest-sdks.sh
#   SUITE=0 ... leaves out the whole suite (a quick look on a laptop; the lane always runs it)
set -uo pipefail
SUITE=${SUITE:-1}

VENV=${VENV:-.venv}
SUMMARY=${SUMMARY:-${GITHUB_STEP_SUMMARY:-/dev/stdout}}
PY="$VENV/bin/python"
PACKAGES=(pulumi pulumi-policy pulumi-kubernetes pulumi-vault)
PYTEST=("$PY" -m pytest -q -p no:cacheprovider)

version() { "$PY" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$1"; }
pinned() { sed -n "s/^ *\"$1==\([^\"]*\)\",*$/\1/p" pyproject.toml; }
newest() {  # the newest release pip would install, without installing it
  "$PY" -m pip install --dry-run --quiet --upgrade --no-deps --report - "$1" 2>/dev/null |
    "$PY" -c "import json, sys; r = json.load(sys.stdin)['install']; print(r[0]['metadata']['version'] if r else '')"
}
restore() { "$PY" -m pip install --quiet --disable-pip-version-check -e '.[dev]' >/dev/null; }

declare -A PIN NEW VERDICT
for p in "${PACKAGES[@]}"; do
  PIN[$p]=$(pinned "$p")
  NEW[$p]=$(newest "$p")
  [ -n "${NEW[$p]}" ] || NEW[$p]=${PIN[$p]}
done

failed=0
for p in "${PACKAGES[@]}"; do
  if [ "${NEW[$p]}" = "${PIN[$p]}" ]; then
    VERDICT[$p]="pinned is newest"
    continue
  fi
  echo "== $p ${PIN[$p]} -> ${NEW[$p]}: sdk_equality tests"
  if ! "$PY" -m pip install --quiet --disable-pip-version-check "$p==${NEW[$p]}"; then
    VERDICT[$p]="breaks: does not install over the other pins"
    failed=1
  elif "${PYTEST[@]}" -m sdk_equality; then
    VERDICT[$p]="can move (adapters equal to the SDK)"
  else
    VERDICT[$p]="breaks: sdk_equality tests fail"
    failed=1
  fi
  restore
done

echo "== all four newest: sdk_equality tests, then the whole suite"
"$PY" -m pip install --quiet --disable-pip-version-check --upgrade "${PACKAGES[@]}"
together_equal=fail together_suite=skipped
if "${PYTEST[@]}" -m sdk_equality; then
  together_equal=pass
  if [ "$SUITE" = 0 ]; then together_suite="not run (SUITE=0)"
  elif "${PYTEST[@]}"; then together_suite=pass; else together_suite=fail; failed=1; fi
else
  failed=1
fi
installed=()
for p in "${PACKAGES[@]}"; do installed+=("$p $(version "$p")"); done

{
  echo "## Newest Pulumi SDKs against the pins"
  echo
  echo "| package | pinned | newest | alone |"
  echo "|---|---|---|---|"
  for p in "${PACKAGES[@]}"; do echo "| $p | ${PIN[$p]} | ${NEW[$p]} | ${VERDICT[$p]} |"; done
  echo
  echo "All four newest together ($(IFS=,; echo "${installed[*]}" | sed 's/,/, /g')):" \
       "sdk_equality tests **$together_equal**, whole suite **$together_suite**."
  echo
  if [ "$failed" = 0 ] && ! printf '%s\n' "${VERDICT[@]}" | grep -qv "pinned is newest"; then
    echo "Every pin is the newest release: nothing to move."
  elif [ "$failed" = 0 ]; then
    echo "Every pin can move: raise it in pyproject.toml and policy_pack/requirements.txt, and add the"
    echo "pulumi / pulumi-policy versions to PROVEN in policy_pack/sdk_adapter.py."
  else
    echo "Move only the pins marked *can move*, one at a time. Until an adapter is proven with a newer"
    echo "pulumi-policy, the pack serves with the SDK's own servicer (slower, same verdicts)."
  fi
} >> "$SUMMARY"
exit "$failed"
