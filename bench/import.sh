#!/bin/sh
# `ctix import` of real data: the MITRE ATT&CK ICS and Mobile bundles and every OASIS example
# bundle in the shared data (cti-stix2-json-schemas/examples/**, cti-documentation/example_json,
# tlp-markings). RUNS (default 3) imports into fresh data directories; prints objects/s (input
# objects over wall time, median), then exports the collection and compares it with the input as
# JSON values, by id + version.
#
#   make bench && bench/import.sh            (CTIX_BIN, CTIX_SHARED, RUNS)
. "$(dirname "$0")/lib.sh"
need_ctix
RUNS=${RUNS:-3}
[ -d "$SHARED/mitre-attack-stix-data" ] || die "no shared data at $SHARED (set CTIX_SHARED)"
WORK=build/bench-tmp/import
rm -rf "$WORK"
mkdir -p "$WORK/in"

for z in "$SHARED"/mitre-attack-stix-data/*.json.zst; do
    zstd -q -dc "$z" >"$WORK/in/$(basename "$z" .zst)" || die "cannot unpack $z"
done
# The order is fixed, so which copy of a repeated object is stored first is too.
{
    ls "$WORK"/in/*.json
    find "$SHARED/cti-stix2-json-schemas/examples" -name '*.json' | sort
    find "$SHARED/cti-documentation/example_json" "$SHARED/tlp-markings" -maxdepth 1 -name '*.json' |
        sort
} >"$WORK/files"
nfiles=$(wc -l <"$WORK/files")
# The file list as the positional parameters (one path a line).
IFS='
'
set -f
set -- $(cat "$WORK/files")
set +f
unset IFS
nobj=$(xargs python3 bench/compare.py --count <"$WORK/files")
echo "import: $nfiles files, $nobj objects, $RUNS fresh imports"

rates=""
run=1
while [ $run -le "$RUNS" ]; do
    node_init "$WORK/data"
    t0=$(now)
    "$CTIX" import --data "$WORK/data" --collection "$COLL" "$@" >"$WORK/import.log" 2>&1
    rc=$?
    t1=$(now)
    r=$(awk -v a="$t0" -v b="$t1" -v n="$nobj" 'BEGIN { printf "%.0f", n / (b - a) }')
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    echo "  run $run: ${s}s $r objects/s (ctix import exit $rc)"
    rates="$rates $r"
    run=$((run + 1))
done
# ctix import says "FILE: N stored, N already present, N rejected" per file, and why it rejects.
awk '/: [0-9]+ stored, [0-9]+ already present, [0-9]+ rejected$/ {
        n = split($0, w, " "); s += w[n - 6]; d += w[n - 4]; r += w[n - 1]; f++ }
    END { printf "  ctix import (last run): %d stored, %d already present, %d rejected in %d files\n",
        s, d, r, f }' "$WORK/import.log"
grep -v ': [0-9]* stored, [0-9]* already present, [0-9]* rejected$' "$WORK/import.log" |
    sed 's/^/    /'
echo "import: median $(median $rates) objects/s over$rates"

"$CTIX" export --data "$WORK/data" --collection "$COLL" >"$WORK/export.json" ||
    die "ctix export failed"
echo "export check (bench/compare.py):"
xargs python3 bench/compare.py "$WORK/export.json" <"$WORK/files" | sed 's/^/  /'
