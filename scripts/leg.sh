# leg.sh - what the check-<leg>.sh scripts share; sourced, not run.
#
# Before sourcing, a script sets leg (its name, e.g. "musl"). It gets:
#   leg_args "$@"      parse --skip-ok (exit 0 instead of 77 on a skip)
#   leg_skip REASON    print "check-<leg> skipped: REASON" and exit
#   leg_ctest DIR ARGS run ctest in DIR with the usual flags plus ARGS,
#                      print "check-<leg>: N tests: P passed, S skipped,
#                      F failed" and every skip with the reason the test
#                      gave, and return ctest's verdict
#   leg_jobs           parallel jobs (JOBS, default 2)

leg_skip_code=77
leg_jobs=${JOBS:-2}

leg_args() {
  for arg in "$@"; do
    case $arg in
    --skip-ok) leg_skip_code=0 ;;
    *)
      echo "usage: $0 [--skip-ok]" >&2
      exit 2
      ;;
    esac
  done
}

leg_skip() {
  echo "check-$leg skipped: $1"
  exit "$leg_skip_code"
}

# The reason a skipped test gave: its first output line that says SKIP
# (tests/test.h prints "SKIP: why"; the shell tests print "skip: why").
leg_skip_reasons() {
  log=$1
  grep '(Skipped)$' "$log" |
    sed 's/^[[:space:]]*[0-9]* - \(.*\) (Skipped)$/\1/' | while read -r name; do
    why=$(awk -v t="$name" '
      { s = $0 }
      sub(/^[0-9]+\/[0-9]+ Testing: /, "", s) && s == t { on = 1; next }
      on && /^Output:$/ { out = 1; next }
      out && /^<end of output>$/ { exit }
      out && tolower($0) ~ /skip/ { print; exit }' \
      "$2/Testing/Temporary/LastTest.log" 2>/dev/null)
    echo "  skipped: $name: ${why:-(no reason printed)}"
  done
}

leg_ctest() {
  dir=$1
  shift
  log=$dir/ctest-$leg.log
  set +e
  ctest --test-dir "$dir" --output-on-failure -j"$leg_jobs" --timeout 600 \
    "$@" >"$log" 2>&1
  rc=$?
  set -e
  # The failures in full, the rest summed up.
  grep -E '\*\*\*Failed|\*\*\*Timeout|\*\*\*Exception|^FAIL|tests failed' \
    "$log" || true
  total=$(sed -n 's/.*tests failed out of \([0-9][0-9]*\).*/\1/p' "$log" |
    tail -n 1)
  failed=$(sed -n 's/.*, \([0-9][0-9]*\) tests failed out of.*/\1/p' "$log" |
    tail -n 1)
  skipped=$(grep -c '(Skipped)$' "$log" || true)
  if [ -z "$total" ]; then
    echo "check-$leg: FAILED (ctest did not finish; see $log)"
    return 1
  fi
  echo "check-$leg: $total tests: $((total - failed - skipped)) passed," \
    "$skipped skipped, $failed failed"
  leg_skip_reasons "$log" "$dir"
  return "$rc"
}
