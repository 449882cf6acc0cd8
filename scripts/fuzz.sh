#!/bin/sh
# Run each libFuzzer target of fuzz/ for a while, one after the other.
#
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS [TARGET]...
#   BUILD_DIR  a build configured with -DMMF_FUZZ=ON (make fuzz does it)
#   SECONDS    how long each target runs
#   TARGET     scan_kernels, lines, ... (default: every fuzz/fuzz_*.c)
#
# Each target starts from its committed corpus (fuzz/corpus/TARGET/) and
# what earlier runs found (BUILD_DIR/fuzz/found-TARGET/, where new inputs
# go, so the committed corpus only changes on purpose: see fuzz/README.md).
# A failing input is written to BUILD_DIR/fuzz/crash-TARGET-*; the script
# then fails. The last status line (executions, cov, ft) is printed per
# target. FUZZ_FLAGS adds libFuzzer options (e.g. -runs=N). FUZZ_WORK is
# where the targets write their scratch files and the log target its
# directories (TMPDIR): by default a directory of this run on /dev/shm
# where that is a tmpfs, else BUILD_DIR/fuzz. On a disk, the files every
# input writes and the log's msync of them cost more than the scan (the
# log target ran at 200 inputs a second, most of it in ext4's fsync); a
# tmpfs also keeps a disk that fills up for a moment on a shared machine
# from interrupting the run.
set -eu

[ $# -ge 2 ] || {
  echo "usage: $0 BUILD_DIR SECONDS [TARGET]..." >&2
  exit 2
}
cd "$(dirname "$0")/.."
root=$(pwd)
build=$1
seconds=$2
shift 2
case $build in
/*) ;;
*) build=$root/$build ;;
esac
if [ $# -eq 0 ]; then
  set --
  for f in fuzz/fuzz_*.c; do
    t=${f#fuzz/fuzz_}
    t=${t%.c}
    [ "$t" = util ] || set -- "$@" "$t"
  done
fi

work=${FUZZ_WORK:-}
if [ -z "$work" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
  [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
  work=$(mktemp -d /dev/shm/mmf-fuzz.XXXXXX)
  trap 'rm -rf "$work"' EXIT INT TERM
fi
work=${work:-$build/fuzz}

failed=
for t in "$@"; do
  bin=$build/fuzz/fuzz_$t
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin not built (configure with -DMMF_FUZZ=ON)" >&2
    exit 2
  fi
  run=$work/run-$t
  found=$build/fuzz/found-$t
  mkdir -p "$run" "$found"
  # Inputs larger than this only slow a target down (the file-based ones
  # build large files from small inputs themselves).
  case $t in
  cli_num) max_len=64 ;;
  shm_name) max_len=512 ;;
  scan_kernels | cli) max_len=8192 ;;
  *) max_len=16384 ;;
  esac
  dict=
  [ -f "fuzz/$t.dict" ] && dict=-dict=$root/fuzz/$t.dict
  echo "=== fuzz: $t for ${seconds}s"
  rc=0
  # shellcheck disable=SC2086
  (cd "$run" && TMPDIR=$run "$bin" -max_total_time="$seconds" -max_len="$max_len" \
    -timeout=30 -print_final_stats=1 -artifact_prefix="$build/fuzz/crash-$t-" \
    $dict ${FUZZ_FLAGS:-} "$found" "$root/fuzz/corpus/$t") \
    >"$build/fuzz/log-$t.txt" 2>&1 || rc=$?
  # libFuzzer exits with 72 when SIGINT stops it (a run cut short to free
  # the core, say): not a finding, which exits with another status (77,
  # or 70 for a timeout) and leaves a crash-* file. The final stats are
  # printed all the same.
  if [ "$rc" -eq 72 ] && grep -q 'libFuzzer: run interrupted' "$build/fuzz/log-$t.txt"; then
    echo "fuzz: $t interrupted, nothing found"
    rc=0
  fi
  if [ "$rc" -eq 0 ]; then
    grep -E '^#[0-9]+[[:space:]]+DONE' "$build/fuzz/log-$t.txt" | tail -n 1 || true
    grep -E '^stat::number_of_executed_units' "$build/fuzz/log-$t.txt" || true
  else
    echo "fuzz: $t FAILED; see $build/fuzz/log-$t.txt and crash-$t-*"
    tail -n 30 "$build/fuzz/log-$t.txt"
    failed="$failed $t"
  fi
done
if [ -n "$failed" ]; then
  echo "=== fuzz: FAILED:$failed"
  exit 1
fi
echo "=== fuzz: passed ($*)"
