# lib.sh - sourced by the benchmarks that reuse bench/up-exec.sh's timing and
# statistics helpers.
#
#   . "$src/bench/lib.sh"
#   bench_import "$src/bench/up-exec.sh" run_cmd stats row ...

# Define the functions named in "$@" by reading each "NAME() {" ... "}"
# definition out of FILE ($1) and evaluating it here: one copy to maintain.
bench_import() {
	local file=$1 name def
	shift
	for name in "$@"; do
		def=$(awk -v n="$name" '
			!on && index($0, n "() {") == 1 {
				print; if ($0 ~ /}[[:space:]]*$/) exit; on = 1; next }
			on { print; if ($0 ~ /^}/) exit }' "$file")
		[ -n "$def" ] || { echo "bench: no $name() in $file" >&2; exit 1; }
		eval "$def"
	done
}
