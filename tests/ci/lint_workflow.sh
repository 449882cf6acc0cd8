#!/bin/sh
# lint_workflow.sh - validate .github/workflows/ci.yml against GitHub's
# workflow schema with action-validator (npm: @action-validator/cli), and
# show that it rejects a broken copy (the negative control).
#
#   sh tests/ci/lint_workflow.sh ROOT WORK
#
# Finds action-validator on PATH, in $MMF_CI_TOOLS/node_modules/.bin, or in
# /opt/mmf-ci-tools/node_modules/.bin (where .ci/run installs it).
# Exit 0 ok, 1 invalid, 77 when action-validator is not installed.
set -u
root=${1:?usage: lint_workflow.sh ROOT WORK}
work=${2:?usage: lint_workflow.sh ROOT WORK}
av=
for c in "$(command -v action-validator 2>/dev/null || true)" \
  "${MMF_CI_TOOLS:-/nonexistent}/node_modules/.bin/action-validator" \
  /opt/mmf-ci-tools/node_modules/.bin/action-validator; do
  if [ -n "$c" ] && [ -x "$c" ]; then
    av=$c
    break
  fi
done
if [ -z "$av" ]; then
  echo "SKIP: action-validator not installed (npm install @action-validator/cli)"
  exit 77
fi
wf=$root/.github/workflows/ci.yml
"$av" "$wf" || exit 1
echo "action-validator: $wf is valid"
mkdir -p "$work" || exit 1
sed 's/^\(    \)runs-on:/\1runs-in:/' "$wf" >"$work/broken.yml"
if "$av" "$work/broken.yml" >"$work/broken.log" 2>&1; then
  echo "FAIL: action-validator accepted a workflow whose jobs have no runs-on"
  exit 1
fi
echo "action-validator: a copy without runs-on is rejected (negative control)"
