#!/usr/bin/env bash
# format-check.sh - every tracked C file is as .clang-format says (clang-format
# 14, Debian's). Fails naming the files that are not; `clang-format -i FILE`
# fixes one.
set -euo pipefail
cd "${RDEV_SOURCE_DIR:-$(dirname "$0")/..}"
command -v clang-format >/dev/null || { echo "format-check: clang-format is not installed" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null ||
	find agent broker client common relay tests bench -name '*.[ch]')
# One clang-format for all: it names each file it would change.
out=$(clang-format --dry-run -Werror "${files[@]}" 2>&1) && exit 0
mapfile -t bad < <(printf '%s\n' "$out" | sed -nE 's/^([^:]+\.[ch]):[0-9]+:[0-9]+: error:.*/\1/p' | sort -u)
[ ${#bad[@]} -gt 0 ] || { printf '%s\n' "$out" >&2; exit 1; }
if [ ${#bad[@]} -gt 0 ]; then
	echo "format-check: ${#bad[@]} file(s) not formatted (run clang-format -i on them):" >&2
	printf '  %s\n' "${bad[@]}" >&2
	exit 1
fi
