#!/bin/sh
# Check that the library allocates only through its table (src/os/alloc.h):
# no direct malloc, calloc, realloc, free, strdup or strndup in src/ outside
# src/os/alloc.c. A direct call would escape the allocation-failure walk and
# the outstanding-allocation count of the tests.
#
# Usage: scripts/check-alloc.sh
set -eu

cd "$(dirname "$0")/.."
# A call is the name not preceded by '.', '_', '>' or a letter or digit
# (mmf__alloc.malloc( and mmf__strndup( are fine), followed by '('.
found=$(grep -rnE '(^|[^._>A-Za-z0-9])(malloc|calloc|realloc|free|strdup|strndup)[[:space:]]*\(' \
  --include='*.c' --include='*.h' src |
  grep -v '^src/os/alloc\.c:' |
  grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)' || true)
if [ -n "$found" ]; then
  echo "allocations outside the table (use mmf__alloc, see src/os/alloc.h):"
  echo "$found"
  exit 1
fi
echo "alloc check: every allocation in src/ goes through mmf__alloc"
