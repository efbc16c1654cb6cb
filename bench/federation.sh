#!/bin/sh
# Federation figures: (1) 100,000 objects replicate from one node to another on loopback — the
# wall time of one `ctix sync` pass that pulls them all, from its start to the last object stored
# (target < 10 s); (2) a new object appears on the peer within 2 s of its publication — `ctix
# serve --sync-interval 1` on the peer, POST on the source, poll the peer every 20 ms (median of
# LAT_RUNS); (3) build/bench/sign, the signing and verification rates (target >= 20,000
# objects/s on one core), when it has been built.
# Environment (besides lib.sh's): OBJECTS (100000), RUNS (3 replications, fresh peer each time),
# LAT_RUNS (5), FED_DIR (the scratch directory, build/bench-data/federation).
. "$(dirname "$0")/lib.sh"
need_ctix
command -v curl >/dev/null || die "curl is needed"
[ -x "$BENCH_BIN/ingest" ] || die "no $BENCH_BIN/ingest: run 'make bench' first"

N=${OBJECTS:-100000}
RUNS=${RUNS:-3}
LAT_RUNS=${LAT_RUNS:-5}
top=${FED_DIR:-build/bench-data/federation}
sg=$top/sg
per=1000
files=$(( (N + per - 1) / per ))

rm -rf "$top"
mkdir -p "$top/gen"
echo "federation: $N indicators on the source ($files bundles of $per), $RUNS replications"

# The source: CSA Singapore with N indicators (CLEAR, GREEN, AMBER), its peer NISC Japan with an
# AMBER agreement, so that nothing is withheld.
sg_key=$("$CTIX" init --data "$sg" --org "CSA Singapore" | sed -n 's/^pubkey: //p')
coll=$("$CTIX" collection add --data "$sg" --title "SG-JP bilateral" --alias bilateral)
"$CTIX" org add --data "$sg" "NISC Japan"
"$CTIX" grant --data "$sg" --collection "$coll" --org "CSA Singapore" --read --write >/dev/null
"$CTIX" grant --data "$sg" --collection "$coll" --org "NISC Japan" --read >/dev/null
tok_jp=$("$CTIX" key add --data "$sg" --org "NISC Japan" --role peer)
tok_sg=$("$CTIX" key add --data "$sg" --org "CSA Singapore" --role analyst)
"$BENCH_BIN/ingest" gen --dir "$top/gen" --files "$files" --per "$per" --seed 7 >/dev/null ||
    die "ingest gen failed"
t0=$(now)
"$CTIX" import --data "$sg" --collection "$coll" "$top"/gen/*.json >/dev/null || die "import failed"
t1=$(now)
rm -rf "$top/gen"
src_rows=$("$CTIX" collection list --data "$sg" | awk -v c="$coll" '$1 == c { print $3 }')
echo "source: $src_rows stored versions (objects and their attestations) after import in" \
    "$(echo "$t1 - $t0" | bc) s"

serve_start "$sg" "$top/sg.log"
SG_PID=$SERVE_PID
SG_BASE=$BASE

# A fresh peer node that pulls the source's collection, and the source's peer entry for it (the
# agreement: without one a peer key reads nothing). Sets JP_KEY.
jp_node() { # dir
    rm -rf "$1"
    JP_KEY=$("$CTIX" init --data "$1" --org "NISC Japan" | sed -n 's/^pubkey: //p')
    "$CTIX" peer remove --data "$sg" --name jp 2>/dev/null || true
    "$CTIX" peer add --data "$sg" --name jp --org "NISC Japan" --url "http://127.0.0.1:9/api/" \
        --token unused --pubkey "$JP_KEY" --max-tlp amber >/dev/null || die "peer add failed"
    "$CTIX" peer add --data "$1" --name sg --org "CSA Singapore" --url "$SG_BASE/" \
        --token "$tok_jp" --pubkey "$sg_key" --pull "$coll" --max-tlp amber >/dev/null ||
        die "peer add failed"
}

rates="" secs=""
for r in $(seq 1 "$RUNS"); do
    jp=$top/jp$r
    jp_node "$jp"
    t0=$(now)
    "$CTIX" sync --data "$jp" >"$top/sync$r.out" 2>"$top/sync$r.err" ||
        { cat "$top/sync$r.out" "$top/sync$r.err" >&2; die "sync failed"; }
    t1=$(now)
    got=$("$CTIX" collection list --data "$jp" | awk -v c="$coll" '$1 == c { print $3 }')
    s=$(echo "$t1 - $t0" | bc)
    rate=$(echo "$got / $s" | bc)
    echo "  run $r: $got of $src_rows versions in $s s ($rate versions/s): $(cat "$top/sync$r.out")"
    [ "$got" = "$src_rows" ] || echo "  run $r: WARNING: the peer has $got, the source $src_rows"
    secs="$secs $s"
    rates="$rates $rate"
done
echo "replication of $N objects: median $(median $secs) s, $(median $rates) versions/s" \
    "(target < 10 s)"

# Latency: the last peer runs `ctix serve --sync-interval 1`; one indicator at a time on the source.
jp=$top/jp$RUNS
jp_reader=$("$CTIX" key add --data "$jp" --org "NISC Japan" --role analyst)
PORT=$(free_port)
"$CTIX" serve --data "$jp" --listen "127.0.0.1:$PORT" --sync-interval 1 >"$top/jp.log" 2>&1 &
JP_PID=$!
BENCH_PIDS="$BENCH_PIDS $JP_PID"
JP_BASE=http://127.0.0.1:$PORT/api
i=0
until grep -q "listening on" "$top/jp.log"; do
    i=$((i + 1))
    [ $i -gt 200 ] && { cat "$top/jp.log" >&2; die "the peer's serve did not start"; }
    sleep 0.05
done
sleep 1.5 # its first pass finds nothing new
lats=""
for r in $(seq 1 "$LAT_RUNS"); do
    id=indicator--$(cat /proc/sys/kernel/random/uuid)
    ts=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
    body='{"objects":[{"type":"indicator","spec_version":"2.1","id":"'$id'","created":"'$ts'","modified":"'$ts'","name":"latency probe","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '"'"'203.0.113.9'"'"']","pattern_type":"stix","valid_from":"'$ts'","object_marking_refs":["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]}]}'
    t0=$(now)
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MEDIA" -H "Content-Type: $MEDIA" \
        -H "Authorization: Bearer $tok_sg" -d "$body" "$SG_BASE/collections/$coll/objects/")
    [ "$code" = 202 ] || die "POST answered $code"
    lat=
    while [ -z "$lat" ]; do
        if curl -s -g -H "Accept: $MEDIA" -H "Authorization: Bearer $jp_reader" \
            "$JP_BASE/collections/$coll/objects/?match[id]=$id" | grep -q "$id"; then
            lat=$(echo "($(now) - $t0) * 1000 / 1" | bc)
        elif [ "$(echo "$(now) - $t0 > 10" | bc)" = 1 ]; then
            lat=timeout
        fi
        [ -z "$lat" ] && sleep 0.02
    done
    echo "  publication $r: on the peer after $lat ms"
    [ "$lat" = timeout ] && lat=10000
    lats="$lats $lat"
    sleep 0.3
done
echo "publication to peer: median $(median $lats) ms (target < 2000 ms)"
stop_pid "$JP_PID"
stop_pid "$SG_PID"

if [ -x "$BENCH_BIN/sign" ]; then
    echo "signatures ($BENCH_BIN/sign, one core; target >= 20,000 objects/s):"
    "$BENCH_BIN/sign" | sed 's/^/  /'
else
    echo "signatures: no $BENCH_BIN/sign (make bench builds it)"
fi
