#!/usr/bin/env bash
# bench/threads.sh - scans past one core and past the page cache: prints
# the "Threads" section of docs/BENCHMARKS.md (run.sh appends it; run
# alone it prints it). Progress goes to stderr.
#
# Usage: bench/threads.sh [BUILD_DIR]       (default: build)
#
# Environment: MMF_BENCH_DIR (default /tmp), MMF_BENCH_RUNS (default 7).
#
#  1. bench_files threads: the 2 GiB file counted in process with
#     mmf_scan_options.threads 1 and 2, hot, against a raw count by two
#     threads over one whole-file mmap with the AVX2 kernel; and cold
#     (evicted before every run) against a read() loop.
#  2. Cold, whole process: `mmf lines -j 1` and `-j 2` against fio
#     (O_DIRECT sequential reads, iodepth 32, 1 MiB blocks), `wc -l` and
#     `cat >/dev/null`, the file evicted (mmf evict: posix_fadvise
#     DONTNEED) right before every run, the commands interleaved round by
#     round in rotating order.
#  3. 10,000 files of 4 KiB, hot (read right before every run): `mmf lines`
#     with -j 1 and -j 2 against `wc -l` and `rg -c ''`.
# Medians over the rounds, and the median of the per-round ratios; only
# figures of one run are compared.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
dir=${MMF_BENCH_DIR:-/tmp}
runs=${MMF_BENCH_RUNS:-7}
bf=$build/bench/bench_files
mmf=$build/cli/mmf
file=$dir/mmf-bench.txt
many=$dir/mmf-bench-many

log() { echo "threads.sh: $*" >&2; }
for t in "$bf" "$mmf"; do
  [ -x "$t" ] || {
    log "$t not built (make build first)"
    exit 2
  }
done
for t in fio wc cat rg awk; do
  command -v "$t" >/dev/null 2>&1 || {
    log "$t not found"
    exit 2
  }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/mmf-bench-threads.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$bf" --dir "$dir" make
log "bench_files threads"
"$bf" --dir "$dir" --runs "$runs" threads | tee "$work/bf.out" |
  grep -v '^[RP] ' >&2

# time_rounds OUT PREPARE NAME=CMD...: every CMD once per round, rotating
# the order, PREPARE right before each; "round name seconds" lines.
time_rounds() {
  local out=$1 prep=$2
  shift 2
  local -a specs=("$@")
  local n=${#specs[@]} r k i name cmd s e
  for ((r = 0; r < runs; r++)); do
    for ((k = 0; k < n; k++)); do
      i=$(((k + r) % n))
      name=${specs[$i]%%=*}
      cmd=${specs[$i]#*=}
      eval "$prep" >/dev/null 2>&1
      s=$(date +%s.%N)
      eval "$cmd" >/dev/null 2>&1
      e=$(date +%s.%N)
      echo "$r $name $(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')"
    done
    log "$(basename "$out") round $((r + 1))/$runs"
  done >"$out"
}

median() { sort -g | awk '{ v[NR] = $1 } END {
  if (NR == 0) { print "nan"; exit }
  print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
med() { awk -v n="$2" '$2 == n { print $3 }' "$1" | median; }
# ratio FILE PEER CASE: median over rounds of peer/case
ratio() { awk -v a="$2" -v b="$3" '$2 == a { pa[$1] = $3 } $2 == b { pb[$1] = $3 }
  END { for (r in pa) if (pb[r] > 0) print pa[r] / pb[r] }' "$1" | median; }
x() { awk -v v="$1" 'BEGIN { printf "%.2fx", v }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.0f ms", s * 1000 }'; }
gbs() { awk -v s="$1" -v b="$2" 'BEGIN { printf "%.2f", b / s / 1e9 }'; }

# The peers must agree before their times mean anything.
[ "$("$mmf" lines -j 2 "$file")" = "$(wc -l "$file")" ] || {
  log "mmf lines -j 2 disagrees with wc -l"
  exit 1
}

log "cold, whole process"
fio_cmd="fio --name=seq --filename=$file --rw=read --bs=1M --iodepth=32 \
--ioengine=libaio --direct=1 --readonly --output=/dev/null"
time_rounds "$work/cold.txt" "'$mmf' evict '$file'" \
  "mmf_j1=$mmf lines -j 1 $file" "mmf_j2=$mmf lines -j 2 $file" \
  "fio=$fio_cmd" "wc=wc -l $file" "cat=cat $file"

log "10,000 files of 4 KiB"
if [ ! -f "$many/f9999" ]; then
  mkdir -p "$many"
  for ((i = 0; i < 10000; i++)); do
    dd if="$file" of="$many/f$i" bs=4096 skip="$i" count=1 status=none
  done
fi
[ "$(cd "$many" && "$mmf" lines -j 2 f*)" = "$(cd "$many" && wc -l f*)" ] || {
  log "mmf lines -j 2 disagrees with wc -l over the small files"
  exit 1
}
time_rounds "$work/many.txt" "cat $many/f* >/dev/null" \
  "mmf_j1=cd $many && $mmf lines -j 1 f*" "mmf_j2=cd $many && $mmf lines -j 2 f*" \
  "wc=cd $many && wc -l f*" "rg=cd $many && rg -c '' ."

size=$(wc -c <"$file")
res() { awk -v c="$1" -v k="${2// /\~}" '$1 == "R" && $2 == c && $3 == k { print $4 }' "$work/bf.out"; }
pair() { awk -v c="$1" -v k="${2// /\~}" -v p="${3// /\~}" \
  '$1 == "P" && $2 == c && $3 == k && $4 == p { print $5 }' "$work/bf.out"; }
c=$work/cold.txt
m=$work/many.txt
cat <<EOF

## Threads: one file on two cores, cold files, many files (bench/threads.sh)

Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs.

In process, 2 GiB, $runs rounds:

| case | median wall | GB/s | ratio |
|---|---|---|---|
| hot, raw 2 threads mmap + AVX2 | $(ms "$(res threads-hot "raw 2 threads mmap avx2")") | $(gbs "$(res threads-hot "raw 2 threads mmap avx2")" "$size") | — |
| hot, mmf 2 threads | $(ms "$(res threads-hot "mmf 2 threads")") | $(gbs "$(res threads-hot "mmf 2 threads")" "$size") | $(x "$(pair threads-hot "mmf 2 threads" "raw 2 threads mmap avx2")") of the raw count |
| hot, mmf 1 thread | $(ms "$(res threads-hot-1v2 "mmf 1 thread")") | $(gbs "$(res threads-hot-1v2 "mmf 1 thread")" "$size") | — |
| hot, mmf 2 threads | $(ms "$(res threads-hot-1v2 "mmf 2 threads")") | $(gbs "$(res threads-hot-1v2 "mmf 2 threads")" "$size") | $(x "$(pair threads-hot-1v2 "mmf 2 threads" "mmf 1 thread")") of one thread |
| cold, read() loop 256K | $(ms "$(res threads-cold "read() loop 256K")") | $(gbs "$(res threads-cold "read() loop 256K")" "$size") | — |
| cold, mmf 1 thread | $(ms "$(res threads-cold "mmf 1 thread")") | $(gbs "$(res threads-cold "mmf 1 thread")" "$size") | $(x "$(pair threads-cold "mmf 1 thread" "read() loop 256K")") of read() |
| cold, mmf 2 threads | $(ms "$(res threads-cold "mmf 2 threads")") | $(gbs "$(res threads-cold "mmf 2 threads")" "$size") | $(x "$(pair threads-cold "mmf 2 threads" "read() loop 256K")") of read() |
| cold, mmf 2 threads READ | $(ms "$(res threads-cold "mmf 2 threads READ")") | $(gbs "$(res threads-cold "mmf 2 threads READ")" "$size") | $(x "$(pair threads-cold "mmf 2 threads READ" "read() loop 256K")") of read() |

Cold 2 GiB, whole process, evicted before every run, $runs interleaved
rounds (ratio: the peer's time over mmf -j 2's, per round):

| command | median wall | GB/s | mmf -j 2 vs it |
|---|---|---|---|
| \`mmf lines -j 2 FILE\` | $(ms "$(med "$c" mmf_j2)") | $(gbs "$(med "$c" mmf_j2)" "$size") | — |
| \`mmf lines -j 1 FILE\` | $(ms "$(med "$c" mmf_j1)") | $(gbs "$(med "$c" mmf_j1)" "$size") | $(x "$(ratio "$c" mmf_j1 mmf_j2)") |
| fio O_DIRECT, iodepth 32, 1 MiB | $(ms "$(med "$c" fio)") | $(gbs "$(med "$c" fio)" "$size") | $(x "$(ratio "$c" fio mmf_j2)") |
| \`wc -l FILE\` | $(ms "$(med "$c" wc)") | $(gbs "$(med "$c" wc)" "$size") | $(x "$(ratio "$c" wc mmf_j2)") |
| \`cat FILE >/dev/null\` | $(ms "$(med "$c" cat)") | $(gbs "$(med "$c" cat)" "$size") | $(x "$(ratio "$c" cat mmf_j2)") |

10,000 files of 4 KiB, hot, $runs interleaved rounds (ratio: the peer's
time over mmf's):

| command | median wall | vs mmf -j 1 | vs mmf -j 2 |
|---|---|---|---|
| \`mmf lines -j 1 f*\` | $(ms "$(med "$m" mmf_j1)") | — | — |
| \`mmf lines -j 2 f*\` | $(ms "$(med "$m" mmf_j2)") | $(x "$(ratio "$m" mmf_j2 mmf_j1)") | — |
| \`wc -l f*\` | $(ms "$(med "$m" wc)") | $(x "$(ratio "$m" wc mmf_j1)") | $(x "$(ratio "$m" wc mmf_j2)") |
| \`rg -c '' .\` | $(ms "$(med "$m" rg)") | $(x "$(ratio "$m" rg mmf_j1)") | $(x "$(ratio "$m" rg mmf_j2)") |
EOF
