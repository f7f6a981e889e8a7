#!/bin/sh
# check_coverage.sh: fails if a function declared in include/dmp.h (or a DMP_ERR_* code) is not
# mentioned in any tests/c/*.c file (as a whole word). Usage: check_coverage.sh [header] [test dir]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
header=${1:-$here/../../include/dmp.h}
dir=${2:-$here}

[ -f "$header" ] || { echo "check_coverage: $header not found" >&2; exit 2; }

# Declarations only: drop comment lines (the header's comments are "/** ... */" blocks whose
# lines start with "/*", "*" or "*/", and trailing "// ..." comments), then take every
# dmp_xxx( that remains.
functions=$(sed -e 's://.*$::' "$header" \
    | grep -v -E '^[[:space:]]*(/\*|\*)' \
    | grep -o -E '\bdmp_[a-z0-9_]*[[:space:]]*\(' \
    | sed -e 's/[[:space:]]*($//' | sort -u)

[ -n "$functions" ] || { echo "check_coverage: no dmp_* function found in $header" >&2; exit 2; }

total=0
missing=""
for f in $functions; do
    total=$((total + 1))
    if ! cat "$dir"/*.c | grep -q -E "(^|[^A-Za-z0-9_])$f([^A-Za-z0-9_]|$)"; then
        missing="$missing $f"
    fi
done

# Every status code too (each is checked by dmp_strerror in test_sizes.c).
codes=$(grep -o -E '^#define DMP_ERR_[A-Z0-9_]+' "$header" | sed -e 's/^#define //' | sort -u)
ncodes=0
for c in $codes; do
    ncodes=$((ncodes + 1))
    if ! cat "$dir"/*.c | grep -q -E "(^|[^A-Za-z0-9_])$c([^A-Za-z0-9_]|$)"; then
        missing="$missing $c"
    fi
done

if [ -n "$missing" ]; then
    echo "check_coverage: functions or codes of $(basename "$header") never mentioned in $dir/*.c:" >&2
    for f in $missing; do echo "    $f" >&2; done
    exit 1
fi
echo "coverage: all $total functions and $ncodes DMP_ERR_* codes of $(basename "$header") are used by the tests"
