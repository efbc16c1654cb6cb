#!/bin/sh
# `make demo`: two national nodes federating on loopback. "CSA Singapore" and "NISC Japan" each get
# a data directory, a node key, a bilateral collection and API keys; each registers the other as a
# peer (role peer keys both ways, an agreement that covers TLP:AMBER) that pulls the other's
# collection. Singapore's collection is filled with the generated Operation Tidal Lantern scenario
# (ctix demo-data). Both servers start, sync continuously, and the script publishes one AMBER
# indicator on Singapore and shows it arriving in Japan; then scans a proxy log in Japan against
# Singapore's indicators (ctix scan --report-to) and shows the sighting arriving in Singapore.
# Then both run until ^C.
# Environment: CTIX_BIN (default build/rel/ctix), PORT (Singapore's port, default 8000; Japan's is
# PORT+1), DEMO_DATA (the parent of the two data directories, default build/demo; deleted first),
# DEMO_EXIT=1 (stop both nodes and exit after the sighting's return, for CI).
set -eu

ctix=${CTIX_BIN:-build/rel/ctix}
sg_port=${PORT:-8000}
jp_port=$((sg_port + 1))
top=${DEMO_DATA:-build/demo}
sg=$top/sg
jp=$top/jp
sg_url=http://127.0.0.1:$sg_port
jp_url=http://127.0.0.1:$jp_port
sg_pid= jp_pid=

if [ ! -x "$ctix" ]; then
    echo "demo: $ctix not found: run 'make' first (or 'make demo')" >&2
    exit 1
fi
command -v curl >/dev/null || { echo "demo: curl is needed (make deps installs it)" >&2; exit 1; }

stop() {
    for p in $sg_pid $jp_pid; do kill "$p" 2>/dev/null || true; done
    for p in $sg_pid $jp_pid; do wait "$p" 2>/dev/null || true; done
    sg_pid= jp_pid=
}
trap 'stop' EXIT
trap 'echo; echo "demo: stopping both nodes"; stop; exit 0' INT TERM

rm -rf "$top"
mkdir -p "$top"
sg_key=$("$ctix" init --data "$sg" --org "CSA Singapore" | sed -n 's/^pubkey: //p')
jp_key=$("$ctix" init --data "$jp" --org "NISC Japan" | sed -n 's/^pubkey: //p')

# Each node's own bilateral collection, readable by its partner's organisation.
sg_coll=$("$ctix" collection add --data "$sg" --title "SG-JP bilateral (CSA)" \
    --alias sg-jp-bilateral --description "Published by CSA Singapore for NISC Japan")
jp_coll=$("$ctix" collection add --data "$jp" --title "JP-SG bilateral (NISC)" \
    --alias jp-sg-bilateral --description "Published by NISC Japan for CSA Singapore")
"$ctix" org add --data "$sg" "NISC Japan"
"$ctix" org add --data "$jp" "CSA Singapore"
"$ctix" grant --data "$sg" --collection "$sg_coll" --org "CSA Singapore" --read --write >/dev/null
"$ctix" grant --data "$sg" --collection "$sg_coll" --org "NISC Japan" --read >/dev/null
"$ctix" grant --data "$jp" --collection "$jp_coll" --org "NISC Japan" --read --write >/dev/null
"$ctix" grant --data "$jp" --collection "$jp_coll" --org "CSA Singapore" --read >/dev/null

# The key each node gives the other (role peer), and one for a person on each side.
tok_for_jp=$("$ctix" key add --data "$sg" --org "NISC Japan" --role peer --name "NISC node")
tok_for_sg=$("$ctix" key add --data "$jp" --org "CSA Singapore" --role peer --name "CSA node")
sg_analyst=$("$ctix" key add --data "$sg" --org "CSA Singapore" --role analyst --name "CSA analyst")
jp_analyst=$("$ctix" key add --data "$jp" --org "NISC Japan" --role analyst --name "NISC analyst")

# Peered both ways: each pulls the other's bilateral collection; the agreement covers AMBER.
"$ctix" peer add --data "$sg" --name jp --org "NISC Japan" --url "$jp_url/api/" \
    --token "$tok_for_sg" --pubkey "$jp_key" --pull "$jp_coll" --max-tlp amber
"$ctix" peer add --data "$jp" --name sg --org "CSA Singapore" --url "$sg_url/api/" \
    --token "$tok_for_jp" --pubkey "$sg_key" --pull "$sg_coll" --max-tlp amber

"$ctix" demo-data --data "$sg" --collection "$sg_coll"
echo
echo "What NISC Japan's node will receive from CSA Singapore (ctix peer preview):"
"$ctix" peer preview --data "$sg" --name jp | head -n 9

# Starts a node in the background and waits for its "listening" line.
start() { # name data port
    log=$top/$1.log
    "$ctix" serve --data "$2" --listen "127.0.0.1:$3" --sync-interval 1 >"$log" 2>&1 &
    pid=$!
    i=0
    until grep -qs "listening on" "$log"; do
        i=$((i + 1))
        if [ "$i" -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
            echo "demo: the $1 node did not start:" >&2
            tail -n 20 "$log" >&2
            exit 1
        fi
        sleep 0.1
    done
}
start sg "$sg" "$sg_port"
sg_pid=$pid
start jp "$jp" "$jp_port"
jp_pid=$pid

# Japan's first pass takes Singapore's scenario; wait for it so the latency below is the
# publication's own.
t_start=$(date +%s%N)
i=0
until "$ctix" peer list --data "$jp" | grep -q "lag  *0 objects" &&
    ! "$ctix" peer list --data "$jp" | grep -q "last success  *never"; do
    i=$((i + 1))
    if [ "$i" -gt 600 ]; then
        echo "demo: NISC Japan's first sync did not finish within 60 s; see $top/jp.log" >&2
        exit 1
    fi
    sleep 0.1
done
echo "NISC Japan's node took Singapore's collection in $(( ($(date +%s%N) - t_start) / 1000000 )) ms:"
"$ctix" collection list --data "$jp"

H='Accept: application/taxii+json;version=2.1'
T='Content-Type: application/taxii+json;version=2.1'
amber=marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421

# await URL TOKEN: polls URL (as TOKEN's holder) every 0.1 s for 15 s until the answer names $id;
# prints the milliseconds since $t0, or fails.
await() {
    n=0
    while [ "$n" -lt 150 ]; do
        if curl -sS -g -H "$H" -H "Authorization: Bearer $2" "$1" 2>/dev/null | grep -q "$id"; then
            echo $(( ($(date +%s%N) - t0) / 1000000 ))
            return 0
        fi
        n=$((n + 1))
        sleep 0.1
    done
    return 1
}
id=indicator--$(cat /proc/sys/kernel/random/uuid)
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
printf '%s\n' '{"objects":[{"type":"indicator","spec_version":"2.1","id":"'$id'","created":"'$now'","modified":"'$now'","name":"Tidal Lantern C2 (demo)","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '"'"'203.0.113.77'"'"']","pattern_type":"stix","valid_from":"'$now'","object_marking_refs":["'$amber'"]}]}' >"$top/envelope.json"

cat <<EOF

ctix demo: two federated nodes on loopback (logs in $top/sg.log and $top/jp.log)
  CSA Singapore  $sg_url/taxii2/  data $sg  collection sg-jp-bilateral $sg_coll
  NISC Japan     $jp_url/taxii2/  data $jp  collection jp-sg-bilateral $jp_coll
  peered both ways (role peer keys, agreement up to TLP:AMBER), pulling every second
  CSA analyst token:   $sg_analyst
  NISC analyst token:  $jp_analyst

Publish on Singapore, see it in Japan (in another terminal):
  H='$H'
  curl -s -H "\$H" -H '$T' -H "Authorization: Bearer $sg_analyst" \\
       -d @$top/envelope.json $sg_url/api/collections/$sg_coll/objects/
  curl -s -g -H "\$H" -H "Authorization: Bearer $jp_analyst" \\
       '$jp_url/api/collections/$sg_coll/objects/?match[id]=$id'
Or without a server: ctix import --data $sg --collection $sg_coll $top/envelope.json,
then ctix sync --data $jp. Status: ctix peer list --data $jp; ctix audit --data $sg.

Now publishing one TLP:AMBER indicator on Singapore ($id):
EOF

t0=$(date +%s%N)
curl -sS -o /dev/null -w '  POST -> HTTP %{http_code}\n' -H "$H" -H "$T" \
    -H "Authorization: Bearer $sg_analyst" -d "@$top/envelope.json" \
    "$sg_url/api/collections/$sg_coll/objects/"
if arrived=$(await "$jp_url/api/collections/$sg_coll/objects/?match[id]=$id" "$jp_analyst"); then
    echo "  arrived on NISC Japan's node after $arrived ms"
else
    echo "demo: the indicator did not reach NISC Japan's node within 15 s; see $top/jp.log" >&2
    exit 1
fi

# A CII owner's proxy log in Japan, scanned against everything Singapore shared; the sightings
# are stored (signed) in Japan's bilateral collection, which Singapore pulls.
echo
echo "A telco's proxy log in Japan (squid), scanned against Singapore's indicators (ctix scan):"
now_s=$(date +%s)
cat >"$top/proxy.log" <<EOF
$now_s.100     12 10.1.2.3 TCP_MISS/200 512 GET http://news.example/ - HIER_DIRECT/198.51.100.10 text/html
$now_s.200     15 10.1.2.4 TCP_TUNNEL/200 4096 CONNECT 203.0.113.77:443 - HIER_DIRECT/203.0.113.77 -
$now_s.300     15 10.1.2.5 TCP_MISS/200 512 GET http://portal.example/ - HIER_DIRECT/203.0.113.7 text/html
$now_s.400     15 10.1.2.5 TCP_MISS/200 512 GET http://cdn.example/a.js - HIER_DIRECT/203.0.113.77 text/javascript
EOF
"$ctix" scan --data "$jp" --collection "$sg_coll" --report-to "$jp_coll" --no-progress \
    "$top/proxy.log" || { echo "demo: ctix scan failed" >&2; exit 1; }
t0=$(date +%s%N)
if arrived=$(await "$sg_url/api/collections/$jp_coll/objects/?match[type]=sighting" "$sg_analyst"); then
    echo "  the sighting of $id reached CSA Singapore after $arrived ms"
else
    echo "demo: the sighting did not reach CSA Singapore's node within 15 s; see $top/sg.log" >&2
    exit 1
fi
echo
"$ctix" peer list --data "$jp"

if [ "${DEMO_EXIT:-}" = 1 ]; then
    exit 0
fi
echo
echo "Both nodes run until ^C."
wait
