#!/usr/bin/env bash
# Copies what a sweep produced into the repository's results/ folder, never
# editing a number: `awd sweep collect` writes the tables and figures anew
# from the jobs' results, then the tables, figures, the sweep file used and
# every finished job's results.json and state.json (build, CPU, kernel level,
# seconds) are copied.
#
#   scripts/publish-results.sh SWEEP_FOLDER results/NAME     (AWD=path/to/awd, default ./awd)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 SWEEP_FOLDER results/NAME" >&2; exit 1; }
src=$1 dst=$2
awd=${AWD:-./awd}
"$awd" sweep collect "$src" >/dev/null
mkdir -p "$dst/jobs"
cp -r "$src/tables/." "$dst/"
cp "$src/sweep.yaml" "$dst/sweep.yaml"
n=0
for j in "$src"/jobs/*/; do
	id=$(basename "$j")
	grep -q '"state": "done"' "$j/state.json" 2>/dev/null || continue
	f="$j/results.json"
	[ -f "$f" ] || f="$j/run/results.json"
	cp "$f" "$dst/jobs/$id.results.json"
	cp "$j/state.json" "$dst/jobs/$id.state.json"
	n=$((n + 1))
done
echo "publish-results: $dst: tables, figures and $n finished jobs"
