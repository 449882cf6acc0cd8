#!/bin/sh
# bench/share.sh - the benchmarks of sharing between processes
# (bench_share, bench_mutex_boost), written into docs/BENCHMARKS.md between
# the "sharing" markers and into docs/sharing.md's "Measured" section.
# bench/run.sh (make bench) runs it last; it also runs alone:
#
#   flock /tmp/mmf-bench.lock sh bench/share.sh [BUILD_DIR]
#
# Environment: MMF_BENCH_RUNS (rounds per case, default 7), MMF_BENCH_OUT
# (where the write-ups are, default docs/ of the tree).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
runs=${MMF_BENCH_RUNS:-7}
outdir=${MMF_BENCH_OUT:-$root/docs}
bs=$build/bench/bench_share
bb=$build/bench/bench_mutex_boost
[ -x "$bs" ] || {
  echo "share.sh: $bs not built (make build first)" >&2
  exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/mmf-bench-share.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "share.sh: load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$bs" --runs "$runs" all >"$work/share.out"
if [ -x "$bb" ]; then
  "$bb" --runs "$runs" >"$work/boost.out"
else
  printf '\n(Boost.Interprocess: no C++ compiler or no Boost headers here.)\n' \
    >"$work/boost.out"
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "<!-- sharing:begin (bench/share.sh writes this part) -->"
  echo "## Sharing between processes"
  echo
  echo "\`bench/bench_share.c\` and \`bench/bench_mutex_boost.cpp\`, each"
  echo "against the raw primitive it wraps in the same run, rounds"
  echo "interleaved, medians of $runs rounds (load average at the end:"
  echo "$load_end). Goals: mutex lock + unlock <= 50 ns and no slower than"
  echo "Boost.Interprocess; ping-pong median within 1.2x of raw futex calls"
  echo "and faster than a pipe; file lock + unlock within 1.1x of a raw OFD"
  echo "lock; owner death detected within 50 ms."
  grep -v '^R ' "$work/share.out"
  grep -v '^R ' "$work/boost.out"
  echo "<!-- sharing:end -->"
} >"$work/section.md"

# Replace the marked section of a file (or append it) with the section
# file given (default: the whole section).
splice() {
  f=$1
  sec=${2:-$work/section.md}
  if [ -f "$f" ] && grep -q '^<!-- sharing:begin' "$f"; then
    awk -v sec="$sec" '
      /^<!-- sharing:begin/ { while ((getline l < sec) > 0) print l; skip = 1; next }
      /^<!-- sharing:end/ { skip = 0; next }
      !skip' "$f" >"$f.new"
    mv "$f.new" "$f"
  else
    { echo; cat "$sec"; } >>"$f"
  fi
}
splice "$outdir/BENCHMARKS.md"
# docs/sharing.md has its own "Measured" heading above the section.
grep -v '^## Sharing between processes' "$work/section.md" >"$work/doc.md"
splice "$outdir/sharing.md" "$work/doc.md"
cat "$work/section.md"
echo "share.sh: wrote $outdir/BENCHMARKS.md and $outdir/sharing.md" >&2
