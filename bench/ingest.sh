#!/bin/sh
# Ingest over TAXII: POST 100 envelopes of 1,000 distinct indicators (100,000 objects) to a fresh
# node, over 1 and then 2 concurrent keep-alive connections, RUNS times each (default 3), every
# run on a fresh data directory and server. Every status resource must say success_count 1000.
# Prints each run and the median objects/s per connection count. Target: >= 50,000 objects/s.
#
#   make bench && bench/ingest.sh            (CTIX_BIN, BENCH_BIN, RUNS, ENVELOPES, PER, CONNS)
. "$(dirname "$0")/lib.sh"
need_ctix
INGEST=$BENCH_BIN/ingest
[ -x "$INGEST" ] || die "no $INGEST (make bench, or set BENCH_BIN)"
RUNS=${RUNS:-3}
ENVELOPES=${ENVELOPES:-100}
PER=${PER:-1000}
CONNS=${CONNS:-"1 2"}
WORK=build/bench-tmp/ingest
mkdir -p "$WORK"
fail=0

echo "ingest: $ENVELOPES envelopes x $PER indicators, $RUNS fresh runs per connection count"
for conns in $CONNS; do
    rates=""
    run=1
    while [ $run -le "$RUNS" ]; do
        node_init "$WORK/data"
        serve_start "$WORK/data" "$WORK/serve.log"
        out=$("$INGEST" post --url "$BASE/collections/$COLL/objects/" --token "$TOKEN" \
            --conns "$conns" --envelopes "$ENVELOPES" --per "$PER" --seed 1)
        rc=$?
        rss=$(peak_rss_kb "$SERVE_PID")
        serve_stop
        echo "  run $run: $out server_peak_rss_kb=$rss"
        if [ $rc -ne 0 ]; then
            echo "  run $run: FAILED (not every status said success_count $PER)"
            tail -n 5 "$WORK/serve.log" | sed 's/^/    serve: /'
            fail=1
        fi
        rates="$rates $(printf '%s\n' "$out" | sed -n 's/.*objects_per_s=\([0-9.]*\).*/\1/p')"
        run=$((run + 1))
    done
    m=$(median $rates)
    verdict=$(awk -v m="$m" 'BEGIN { print (m >= 50000) ? "meets" : "MISSES" }')
    echo "ingest conns=$conns: median $m objects/s over$rates ($verdict target 50000)"
done
rm -rf "$WORK/data"
exit $fail
