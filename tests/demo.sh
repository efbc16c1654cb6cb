#!/bin/sh
# `make demo`: a Singapore node in one minute. Creates ./demo-data (CSA Singapore runs the node,
# NISC Japan is a partner), two collections, grants and two API keys, fills the bilateral
# collection with the generated Operation Tidal Lantern scenario (ctix demo-data), prints curl
# commands to try and then runs the TAXII server in the foreground until ^C.
# Environment: CTIX_BIN (the ctix binary, default build/rel/ctix), PORT (default 8000),
# DEMO_DATA (the data directory, default ./demo-data; it is deleted first).
set -eu

ctix=${CTIX_BIN:-build/rel/ctix}
port=${PORT:-8000}
data=${DEMO_DATA:-./demo-data}

if [ ! -x "$ctix" ]; then
    echo "demo: $ctix not found: run 'make' first (or 'make demo')" >&2
    exit 1
fi

rm -rf "$data"
"$ctix" init --data "$data" --org "CSA Singapore"
"$ctix" org add --data "$data" "NISC Japan" >/dev/null

bilateral=$("$ctix" collection add --data "$data" --title "SG-JP bilateral" \
    --alias sg-jp-bilateral \
    --description "Joint operations between CSA Singapore and NISC Japan")
national=$("$ctix" collection add --data "$data" --title "Singapore national" \
    --alias sg-national --description "Advisories for Singapore's CII owners")

# Singapore reads and writes both; Japan only the bilateral one.
"$ctix" grant --data "$data" --collection "$bilateral" --org "CSA Singapore" --read --write >/dev/null
"$ctix" grant --data "$data" --collection "$national" --org "CSA Singapore" --read --write >/dev/null
"$ctix" grant --data "$data" --collection "$bilateral" --org "NISC Japan" --read --write >/dev/null

admin=$("$ctix" key add --data "$data" --org "CSA Singapore" --role admin --name "demo admin")
analyst=$("$ctix" key add --data "$data" --org "NISC Japan" --role analyst --name "NISC analyst")

"$ctix" demo-data --data "$data" --collection "$bilateral"

base=http://127.0.0.1:$port
cat <<EOF

ctix demo: data in $data, TAXII 2.1 at $base/taxii2/ (API root $base/api/)
  collection sg-jp-bilateral  $bilateral  (CSA Singapore and NISC Japan: read, write)
  collection sg-national      $national  (CSA Singapore only)
  admin token (CSA Singapore):  $admin
  analyst token (NISC Japan):   $analyst

Try, in another terminal:
  TOKEN=$analyst
  H='Accept: application/taxii+json;version=2.1'
  curl -s -H "\$H" -H "Authorization: Bearer \$TOKEN" $base/taxii2/
  curl -s -H "\$H" -H "Authorization: Bearer \$TOKEN" $base/api/collections/
  curl -s -g -H "\$H" -H "Authorization: Bearer \$TOKEN" '$base/api/collections/$bilateral/objects/?limit=2&match[type]=indicator'

Stop the server with ^C.
EOF

exec "$ctix" serve --data "$data" --listen "127.0.0.1:$port"
