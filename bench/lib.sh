# Shared helpers for the bench/*.sh scripts: sourced, never run. Every script runs from the repo
# root, keeps its scratch files under build/, and stops only the processes it started (by pid).
#
# Environment: CTIX_BIN (default build/rel/ctix), BENCH_BIN (directory of the bench C tools,
# default build/bench), CTIX_SHARED (default ../shared/data), CTIX_THREADS (serve --threads).

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
CTIX=${CTIX_BIN:-build/rel/ctix}
BENCH_BIN=${BENCH_BIN:-build/bench}
SHARED=${CTIX_SHARED:-../shared/data}
MEDIA='application/taxii+json;version=2.1'
BENCH_PIDS=""

die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

need_ctix() {
    [ -x "$CTIX" ] || die "no ctix binary at $CTIX (make, or set CTIX_BIN)"
}

# Median of the numbers given as arguments (the lower middle one for an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# A free TCP port on 127.0.0.1 (the kernel's choice; a tiny race is acceptable for benchmarks).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now() {
    date +%s.%N
}

# node_init DIR: a fresh node with org "bench", one collection it may read and write, and an admin
# key. Sets COLL and TOKEN.
node_init() {
    rm -rf "$1"
    mkdir -p "$(dirname "$1")"
    "$CTIX" init --data "$1" --org bench >/dev/null || die "ctix init failed"
    COLL=$("$CTIX" collection add --data "$1" --title "bench collection" --alias bench) ||
        die "ctix collection add failed"
    # The id is the one UUID-shaped word printed.
    COLL=$(printf '%s\n' "$COLL" | grep -oE '[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}' | tail -n 1)
    [ -n "$COLL" ] || die "ctix collection add printed no id"
    "$CTIX" grant --data "$1" --collection "$COLL" --org bench --read --write >/dev/null ||
        die "ctix grant failed"
    TOKEN=$("$CTIX" key add --data "$1" --org bench --role admin) || die "ctix key add failed"
    TOKEN=$(printf '%s\n' "$TOKEN" | tail -n 1 | awk '{ print $NF }')
    [ -n "$TOKEN" ] || die "ctix key add printed no token"
}

# serve_start DIR LOG: starts `ctix serve` in the background and waits for its ready line. Sets
# PORT, SERVE_PID and BASE (the API root URL).
serve_start() {
    PORT=$(free_port)
    if [ -n "${CTIX_THREADS:-}" ]; then
        "$CTIX" serve --data "$1" --listen "127.0.0.1:$PORT" --threads "$CTIX_THREADS" \
            --max-content-length 67108864 >"$2" 2>&1 &
    else
        "$CTIX" serve --data "$1" --listen "127.0.0.1:$PORT" \
            --max-content-length 67108864 >"$2" 2>&1 &
    fi
    SERVE_PID=$!
    BENCH_PIDS="$BENCH_PIDS $SERVE_PID"
    i=0
    until grep -q "listening on http://127.0.0.1:$PORT/" "$2" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 200 ] || ! kill -0 "$SERVE_PID" 2>/dev/null; then
            cat "$2" >&2
            die "ctix serve did not start"
        fi
        sleep 0.05
    done
    BASE="http://127.0.0.1:$PORT/api"
}

# stop_pid PID: TERM, then KILL after 5 s; waits for it.
stop_pid() {
    [ -n "$1" ] || return 0
    kill "$1" 2>/dev/null || return 0
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    BENCH_PIDS=$(printf '%s\n' $BENCH_PIDS | grep -vx "$1" | tr '\n' ' ')
}

serve_stop() {
    stop_pid "${SERVE_PID:-}"
    SERVE_PID=""
}

# Peak resident set of a process in kB (VmHWM), read while it still runs.
peak_rss_kb() {
    awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# On exit, stop whatever this script started and is still running.
cleanup_pids() {
    for p in $BENCH_PIDS; do
        kill "$p" 2>/dev/null
    done
}
trap cleanup_pids EXIT
trap 'exit 130' INT TERM
