#!/bin/sh
# Check (or with --fix, apply) .clang-format on every C source and header of
# the tree: tracked or present *.c and *.h under include src tests examples
# cli bench fuzz.
#
# Usage: scripts/check-format.sh [--fix] [--ctest]
#   --fix    reformat the files in place instead of checking them
#   --ctest  exit 77 (CTest's "skipped") instead of 0 when clang-format is
#            not installed
# CLANG_FORMAT names the binary (default: clang-format).
set -eu

fix=0
skip_code=0
for arg in "$@"; do
  case $arg in
  --fix) fix=1 ;;
  --ctest) skip_code=77 ;;
  *)
    echo "usage: $0 [--fix] [--ctest]" >&2
    exit 2
    ;;
  esac
done

cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
  echo "format check skipped: clang-format not installed"
  exit "$skip_code"
fi

dirs="include src tests examples cli bench fuzz"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
{
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked files that still exist (a deleted one is not an error).
    # shellcheck disable=SC2086
    git ls-files -- $dirs | grep -E '\.[ch]$' || true
  fi
  for d in $dirs; do
    [ -d "$d" ] && find "$d" -type f \( -name '*.c' -o -name '*.h' \)
  done
} | sed 's|^\./||' | sort -u | while IFS= read -r f; do
  [ -f "$f" ] && printf '%s\n' "$f"
done >"$list"

n=$(wc -l <"$list" | tr -d ' ')
if [ "$n" -eq 0 ]; then
  echo "format check: no files"
  exit 0
fi

if [ "$fix" -eq 1 ]; then
  tr '\n' '\0' <"$list" | xargs -0 "$CLANG_FORMAT" -i
  echo "formatted $n files with $("$CLANG_FORMAT" --version)"
  exit 0
fi

if tr '\n' '\0' <"$list" | xargs -0 "$CLANG_FORMAT" --dry-run --Werror; then
  echo "format check passed: $n files"
else
  echo "format check FAILED: run scripts/check-format.sh --fix (or make format)"
  exit 1
fi
