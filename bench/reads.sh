#!/bin/sh
# Reads over TAXII: a node holding 1,000,000 indicators (prepared once with `ingest gen` and
# `ctix import`, cached under build/bench-data/reads), then wrk -t2 -c32 -d10s --latency with
# bench/reads.lua: GET objects pages of limit=100 at added_after values taken from the collection's
# real date_added. In the same run nginx serves one saved ctix page (~60 KB) under the same wrk
# settings, and the two alternate ROUNDS times (default 3). Prints pages/s, p50/p99 latency (medians
# over the rounds), ctix's peak RSS (VmHWM) and the ratio ctix/nginx.
# Targets: >= 5,000 pages/s, p99 < 20 ms, peak RSS < 200 MB, ideally >= 1/4 of nginx.
#
#   make bench && bench/reads.sh             (CTIX_BIN, BENCH_BIN, ROUNDS, DURATION, OBJECTS,
#                                             REBUILD=1 to rebuild the cached node)
. "$(dirname "$0")/lib.sh"
need_ctix
command -v wrk >/dev/null || die "wrk is not installed"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "nginx is not installed"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
OBJECTS=${OBJECTS:-1000000}
PER_FILE=10000
CACHE=build/bench-data/reads-$OBJECTS
WORK=build/bench-tmp/reads
mkdir -p "$WORK"

# ---- the cached node: 1,000,000 objects, its collection id and key ----
if [ "${REBUILD:-0}" = 1 ] || [ ! -f "$CACHE/ready" ]; then
    INGEST=$BENCH_BIN/ingest
    [ -x "$INGEST" ] || die "no $INGEST (make bench, or set BENCH_BIN)"
    rm -rf "$CACHE"
    node_init "$CACHE/data"
    files=$((OBJECTS / PER_FILE))
    chunk=10
    echo "reads: preparing $OBJECTS objects in $CACHE ($files bundles of $PER_FILE)"
    t0=$(now)
    c=0
    while [ $c -lt "$files" ]; do
        n=$chunk
        [ $((c + n)) -gt "$files" ] && n=$((files - c))
        rm -rf "$WORK/bundles"
        # A distinct seed per chunk keeps every object distinct.
        "$INGEST" gen --dir "$WORK/bundles" --files "$n" --per $PER_FILE --seed $((c + 1000)) ||
            die "ingest gen failed"
        "$CTIX" import --data "$CACHE/data" --collection "$COLL" "$WORK"/bundles/*.json \
            >"$WORK/import.log" 2>&1 || {
            tail -n 5 "$WORK/import.log" >&2
            die "ctix import failed"
        }
        c=$((c + n))
    done
    t1=$(now)
    rm -rf "$WORK/bundles"
    printf 'COLL=%s\nTOKEN=%s\n' "$COLL" "$TOKEN" >"$CACHE/env"
    awk -v a="$t0" -v b="$t1" -v n="$OBJECTS" \
        'BEGIN { printf "reads: prepared in %.1fs (gen + import, %.0f objects/s)\n", b - a, n / (b - a) }'
    touch "$CACHE/ready"
fi
. "./$CACHE/env"
du -sh "$CACHE/data" | awk '{ print "reads: data dir " $1 }'

serve_start "$CACHE/data" "$WORK/serve.log"
OPATH="/api/collections/$COLL/objects/"

# ---- real date_added values spread over the collection, from manifest pages ----
# Instants spread between the first and the last date_added each find the first record added after
# them (a manifest page of 1): that record's date_added is a real value.
python3 - "$PORT" "$COLL" "$TOKEN" "$WORK/added_after.txt" <<'PY' || die "could not sample date_added values"
import datetime, http.client, json, sys
port, coll, token, out = sys.argv[1:5]
h = {"Accept": "application/taxii+json;version=2.1", "Authorization": "Bearer " + token}
c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
def manifest(q):
    c.request("GET", f"/api/collections/{coll}/manifest/?{q}", headers=h)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit(f"manifest {q}: HTTP {r.status} {body[:200]!r}")
    return json.loads(body or b"{}").get("objects", [])
def parse(ts):
    return datetime.datetime.strptime(ts[:26].rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")
first = manifest("limit=1")
if not first:
    sys.exit("the collection is empty")
t0 = parse(first[0]["date_added"])
fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
SAMPLES = 2000
# The last date_added, by bisection: the node may have been prepared long ago.
lo, hi = t0, datetime.datetime.utcnow() + datetime.timedelta(days=1)
while hi - lo > datetime.timedelta(milliseconds=1):
    mid = lo + (hi - lo) / 2
    if manifest("limit=1&added_after=" + mid.strftime(fmt)):
        lo = mid
    else:
        hi = mid
t1 = lo
vals = set()
# Up to 99% of the span: the page after each value is full (reads.sh checks one).
for i in range(SAMPLES):
    t = t0 + (t1 - t0) * (0.99 * i / SAMPLES)
    recs = manifest("limit=1&added_after=" + t.strftime(fmt))
    if recs:
        vals.add(recs[0]["date_added"])
with open(out, "w") as f:
    f.write("\n".join(sorted(vals)) + "\n")
print(f"reads: {len(vals)} distinct added_after values from {first[0]['date_added']}")
PY
mid=$(awk '{ v[NR] = $0 } END { print v[int(NR / 2)] }' "$WORK/added_after.txt")

# ---- one real page, for nginx and as a sanity check ----
mkdir -p "$WORK/nginx/html" "$WORK/nginx/tmp"
code=$(curl -s -o "$WORK/nginx/html/page.json" -w '%{http_code}' -H "Accept: $MEDIA" \
    -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$OPATH?limit=100&added_after=$mid")
[ "$code" = 200 ] || die "GET objects page: HTTP $code"
pobj=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("objects", [])))' \
    "$WORK/nginx/html/page.json")
echo "reads: a page holds $pobj objects, $(wc -c <"$WORK/nginx/html/page.json") bytes"
[ "$pobj" = 100 ] || echo "reads: WARNING: a page of limit=100 did not hold 100 objects"

# ---- nginx serving that page ----
NPORT=$(free_port)
NPREFIX=$ROOT/$WORK/nginx
cat >"$NPREFIX/nginx.conf" <<NGX
worker_processes 2;
pid $NPREFIX/nginx.pid;
error_log $NPREFIX/error.log warn;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $NPREFIX/tmp/body;
    proxy_temp_path $NPREFIX/tmp/proxy;
    fastcgi_temp_path $NPREFIX/tmp/fastcgi;
    uwsgi_temp_path $NPREFIX/tmp/uwsgi;
    scgi_temp_path $NPREFIX/tmp/scgi;
    default_type application/taxii+json;
    server {
        listen 127.0.0.1:$NPORT;
        root $NPREFIX/html;
    }
}
NGX
"$NGINX" -c "$NPREFIX/nginx.conf" -p "$NPREFIX" -g 'daemon off;' 2>"$NPREFIX/stderr" &
NGINX_PID=$!
BENCH_PIDS="$BENCH_PIDS $NGINX_PID"
i=0
until curl -s -o /dev/null "http://127.0.0.1:$NPORT/page.json"; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$NGINX_PID" 2>/dev/null; then
        cat "$NPREFIX/stderr" "$NPREFIX/error.log" >&2 2>/dev/null
        die "nginx did not start"
    fi
    sleep 0.05
done

# wrkrun NAME URL PATH: one wrk run; appends "rps p50_ms p99_ms non2xx" to $WORK/NAME.txt.
wrkrun() {
    wrk -t2 -c32 -d"$DURATION" --latency -s bench/reads.lua "$2" -- \
        "$WORK/added_after.txt" "$3" "$TOKEN" >"$WORK/wrk-$1.out" 2>&1
    awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /s$/) return v * 1000
            return v
        }
        /^ *50%/ { p50 = ms($2) } /^ *99%/ { p99 = ms($2) }
        /^Requests\/sec:/ { rps = $2 }
        /Non-2xx/ { bad = $NF }
        /Socket errors/ { err = $0 }
        END { printf "%s %.3f %.3f %d\n", rps, p50, p99, bad; if (err != "") print err > "/dev/stderr" }
    ' "$WORK/wrk-$1.out" >>"$WORK/$1.txt"
    tail -n 1 "$WORK/$1.txt"
}

rm -f "$WORK/ctix.txt" "$WORK/nginx.txt"
# The largest RssAnon (heap, stacks) seen every 0.2 s while wrk runs: VmHWM also counts the pages of
# the database file that SQLite maps, which are page cache rather than memory of the process.
(
    max=0
    while kill -0 "$SERVE_PID" 2>/dev/null; do
        a=$(awk '/^RssAnon:/ { print $2 }' "/proc/$SERVE_PID/status" 2>/dev/null)
        [ -n "$a" ] && [ "$a" -gt "$max" ] && max=$a && echo "$max" >"$WORK/anon_max"
        sleep 0.2
    done
) &
SAMPLER_PID=$!
BENCH_PIDS="$BENCH_PIDS $SAMPLER_PID"
echo "reads: wrk -t2 -c32 -d$DURATION --latency, $ROUNDS rounds (pages/s p50_ms p99_ms non2xx)"
r=1
while [ $r -le "$ROUNDS" ]; do
    echo "  round $r ctix:  $(wrkrun ctix "http://127.0.0.1:$PORT" "$OPATH")"
    echo "  round $r nginx: $(wrkrun nginx "http://127.0.0.1:$NPORT" /page.json)"
    r=$((r + 1))
done
rss=$(peak_rss_kb "$SERVE_PID")
split=$(awk '/^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 } /^Threads:/ { t = $2 }
    END { printf "RssAnon %.1f MB, RssFile %d MB, %d threads", a / 1024, f / 1024, t }' \
    "/proc/$SERVE_PID/status")
serve_stop
stop_pid "$SAMPLER_PID"
anon=$(cat "$WORK/anon_max" 2>/dev/null || echo 0)
stop_pid "$NGINX_PID"

col() { awk -v c="$2" '{ print $c }' "$WORK/$1.txt"; }
c_rps=$(median $(col ctix 1)); c_p50=$(median $(col ctix 2)); c_p99=$(median $(col ctix 3))
n_rps=$(median $(col nginx 1)); n_p50=$(median $(col nginx 2)); n_p99=$(median $(col nginx 3))
bad=$(awk '{ s += $4 } END { print s + 0 }' "$WORK/ctix.txt")
echo "reads ctix:  $c_rps pages/s  p50 ${c_p50} ms  p99 ${c_p99} ms  non-2xx $bad"
echo "reads ctix peak RSS (VmHWM): $((rss / 1024)) MB, peak RssAnon ${anon} kB;" \
    "at the end: $split"
echo "reads nginx: $n_rps pages/s  p50 ${n_p50} ms  p99 ${n_p99} ms"
awk -v c="$c_rps" -v n="$n_rps" -v p99="$c_p99" -v rss="$rss" -v anon="$anon" 'BEGIN {
    printf "reads ratio ctix/nginx: %.3f (1/%.1f)\n", c / n, n / c
    printf "targets: pages/s >= 5000 %s, p99 < 20 ms %s, RSS < 200 MB %s by VmHWM (%s by RssAnon)," \
        " >= 1/4 nginx %s\n", (c >= 5000) ? "met" : "MISSED", (p99 < 20) ? "met" : "MISSED",
        (rss < 200 * 1024) ? "met" : "MISSED", (anon < 200 * 1024) ? "met" : "missed",
        (c * 4 >= n) ? "met" : "MISSED"
}'
