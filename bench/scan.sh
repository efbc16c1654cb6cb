#!/bin/sh
# `ctix scan` (issue 4) on the 1 GB mixed log of ../shared/bench/gen_logs.py (squid, Zeek dns and
# JSON firewall sections in one file) with 10k, 100k and 1M indicators:
#  (a) exactness against the generator's ground truth, per format: zero missed and zero false
#      (scan_score.py), once with validity judged at each record's time (the default; truth lines
#      whose indicator was not yet valid are expected to be withheld) and once with --valid-at now
#      (the generator's truth as it is);
#  (b) speed with 1M indicators, index built: one core (taskset -c 0, --threads 1) and both cores,
#      RUNS (3) runs each, medians; GB/s of log;
#  (c) the index for 1M indicators: from the bundle file and from a node's store (time, peak RSS):
#      without the scan cache (--no-cache), the first scan (no cache yet: reads the store, writes
#      the cache), warm scans (the cache current) and scans after 1,000 new indicators were
#      imported (the cache plus the changes; each such run adds 1,000 to the kept node);
#  (d) the peers on the same file and indicators in the same run: LC_ALL=C grep -F -f and
#      rg -F -f (PEER_RUNS runs, default 1: they take minutes), and the ratio; a peer that is not
#      installed is named and skipped.
#
#   make bench && bench/scan.sh
# Environment: SCAN_DATA (default build/bench-data/scan: generated there when missing, ~1 min),
# GEN_LOGS (default ../shared/bench/gen_logs.py), RUNS (3), PEER_RUNS (1), PEERS ("grep rg"),
# PARTS ("exact speed index peers"), SIZES ("10000 100000 1000000").
. "$(dirname "$0")/lib.sh"
need_ctix
RUNS=${RUNS:-3}
PEER_RUNS=${PEER_RUNS:-1}
PEERS=${PEERS:-"grep rg"}
PARTS=${PARTS:-"exact speed index peers"}
SIZES=${SIZES:-"10000 100000 1000000"}
DATA=${SCAN_DATA:-build/bench-data/scan}
GEN=${GEN_LOGS:-../shared/bench/gen_logs.py}
LOG=$DATA/mixed.log
OUT=build/bench-data/scan-out
mkdir -p "$OUT"

if [ ! -s "$LOG" ] || [ ! -s "$DATA/ioc-1000000.stix.json" ]; then
    [ -f "$GEN" ] || die "no $LOG and no generator at $GEN (set SCAN_DATA or GEN_LOGS)"
    echo "generating the indicators and the 1 GB log into $DATA (about a minute)"
    python3 "$GEN" --seed 1 --outdir "$DATA" --sizes 10000,100000,1000000 --log-format mixed \
        --log-size 1G >/dev/null || die "gen_logs.py failed"
fi
BYTES=$(stat -c %s "$LOG")
echo "log: $LOG, $BYTES bytes, $(wc -l <"$LOG") lines"
# The log dropped from the page cache and read back by cat: every contender, and every run of
# this script, meets the page cache in the same state (how the kernel holds a file there, in
# small or 2 MB folios, changes how fast a mapping of it is made)
python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$LOG" ||
    true
cat "$LOG" >/dev/null

# secs OUTFILE CMD...: runs CMD with its output into OUTFILE, prints its wall time in seconds.
secs() {
    o=$1
    shift
    t0=$(now)
    "$@" >"$o"
    t1=$(now)
    echo "$t0 $t1" | awk '{ printf "%.3f", $2 - $1 }'
}

# peak_rss_mb CMD...: runs CMD under /usr/bin/time, prints the peak RSS in MB.
peak_rss_mb() {
    /usr/bin/time -f '%M' -o "$OUT/rss" "$@" >/dev/null 2>&1
    awk '{ printf "%.0f", $1 / 1024 }' "$OUT/rss"
}

case " $PARTS " in *" exact "*)
    echo "== (a) exactness against the generator's truth"
    for n in $SIZES; do
        for mode in record now; do
            extra=""
            score=""
            [ "$mode" = now ] && extra="--valid-at now"
            [ "$mode" = record ] && score="--record-time"
            # shellcheck disable=SC2086
            "$CTIX" scan --quiet --no-progress $extra --indicators "$DATA/ioc-$n.stix.json" \
                --out "$OUT/hits-$n-$mode.jsonl" "$LOG"
            echo "$n indicators, validity at $mode:"
            python3 bench/scan_score.py "$DATA/ioc-$n.stix.json" "$DATA/mixed.truth.tsv" \
                "$DATA/mixed.nearmiss.tsv" "$OUT/hits-$n-$mode.jsonl" $score ||
                echo "  NOT EXACT"
        done
    done
    ;;
esac

case " $PARTS " in *" speed "*)
    echo "== (b) speed with 1,000,000 indicators (the index built once per run, not timed here)"
    for cores in 1 2; do
        set --
        for _ in $(seq "$RUNS"); do
            if [ "$cores" = 1 ]; then
                taskset -c 0 "$CTIX" scan --threads 1 --no-progress --valid-at now \
                    --indicators "$DATA/ioc-1000000.stix.json" --out /dev/null "$LOG" \
                    2>"$OUT/speed.err"
            else
                "$CTIX" scan --threads 2 --no-progress --valid-at now \
                    --indicators "$DATA/ioc-1000000.stix.json" --out /dev/null "$LOG" \
                    2>"$OUT/speed.err"
            fi
            s=$(sed -n 's/.* in \([0-9.]*\) s (.*/\1/p' "$OUT/speed.err" | tail -1)
            set -- "$@" "$s"
        done
        m=$(median "$@")
        echo "$cores core(s): scan $m s (runs: $*), $(echo "$BYTES $m" |
            awk '{ printf "%.2f", $1 / $2 / 1e9 }') GB/s; last run: $(sed -n 's/.*(\(.*\); \(workers.*of CPU\)).*/\2/p' "$OUT/speed.err" | tail -1)"
        eval "SCAN_$cores=$m"
    done
    # the same with every line read in full (no sieve), once, for comparison
    CTIX_SCAN_NOSIEVE=1 "$CTIX" scan --threads 2 --no-progress --valid-at now \
        --indicators "$DATA/ioc-1000000.stix.json" --out /dev/null "$LOG" 2>"$OUT/speed.err"
    echo "without the sieve (CTIX_SCAN_NOSIEVE=1), two cores: $(sed -n 's/.* in \([0-9.]*\) s (.*/\1/p' "$OUT/speed.err" | tail -1) s"
    # and with the log read into buffers rather than mapped, one core, once
    CTIX_SCAN_NOMAP=1 taskset -c 0 "$CTIX" scan --threads 1 --no-progress --valid-at now \
        --indicators "$DATA/ioc-1000000.stix.json" --out /dev/null "$LOG" 2>"$OUT/speed.err"
    echo "read, not mapped (CTIX_SCAN_NOMAP=1), one core: $(sed -n 's/.* in \([0-9.]*\) s (.*/\1/p' "$OUT/speed.err" | tail -1) s"
    ;;
esac

case " $PARTS " in *" index "*)
    echo "== (c) the index for 1,000,000 indicators"
    set --
    for _ in $(seq "$RUNS"); do
        "$CTIX" scan --no-progress --indicators "$DATA/ioc-1000000.stix.json" --out /dev/null \
            /dev/null 2>"$OUT/index.err"
        s=$(sed -n 's/.* in \([0-9.]*\) s, .*/\1/p' "$OUT/index.err" | head -1)
        set -- "$@" "$s"
    done
    rss=$(peak_rss_mb "$CTIX" scan --no-progress --indicators "$DATA/ioc-1000000.stix.json" \
        --out /dev/null /dev/null)
    echo "from the bundle: $(median "$@") s (runs: $*), peak RSS $rss MB ($(grep -o '[0-9.]* MB$' "$OUT/index.err") held by the index)"
    NODE=$OUT/node
    if [ ! -f "$NODE/.loaded" ]; then
        rm -rf "$NODE"
        "$CTIX" init --data "$NODE" --org bench >/dev/null || die "init failed"
        "$CTIX" collection add --data "$NODE" --title iocs --alias iocs >/dev/null ||
            die "collection add failed"
        echo "importing 1,000,000 indicators into a node (once; kept in $NODE)"
        "$CTIX" import --data "$NODE" --collection iocs "$DATA/ioc-1000000.stix.json" >/dev/null ||
            die "import failed"
        touch "$NODE/.loaded"
    fi
    # store_figure LABEL SETUP [SCAN OPTIONS]: RUNS scans of the node, the shell command SETUP
    # before each; prints the medians of the index time and the peak RSS.
    store_figure() {
        label=$1
        setup=$2
        shift 2
        ts=""
        rs=""
        for _ in $(seq "$RUNS"); do
            eval "$setup"
            /usr/bin/time -f '%M' -o "$OUT/rss" "$CTIX" scan --no-progress --data "$NODE" \
                --collection iocs --out /dev/null "$@" /dev/null 2>"$OUT/index.err"
            ts="$ts $(sed -n 's/.* in \([0-9.]*\) s, .*/\1/p' "$OUT/index.err" | head -1)"
            rs="$rs $(awk '{ printf "%.0f", $1 / 1024 }' "$OUT/rss")"
        done
        # shellcheck disable=SC2086
        echo "from the store, $label: $(median $ts) s (runs:$ts), peak RSS $(median $rs) MB" \
            "($(grep -o 'indicators: [^(]*' "$OUT/index.err" | sed 's/ *$//'))"
    }
    # 1,000 indicators no run has imported before (random ids), as a bundle.
    new_bundle() {
        python3 -c '
import json, random, sys, uuid
r = random.SystemRandom()
objs = [{"type": "indicator", "spec_version": "2.1", "id": "indicator--%s" % uuid.uuid4(),
         "created": "2024-06-01T00:00:00.000Z", "modified": "2024-06-01T00:00:00.000Z",
         "pattern": "[ipv4-addr:value = \x2710.%d.%d.%d\x27]" % (r.randrange(256), i // 256, i % 256),
         "pattern_type": "stix", "valid_from": "2024-06-01T00:00:00Z"} for i in range(1000)]
json.dump({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(), "objects": objs}, sys.stdout)
' >"$OUT/new-1000.json" || die "cannot make the 1,000 new indicators"
    }
    store_figure "--no-cache" ":" --no-cache
    # shellcheck disable=SC2016 # the setups are eval'd in store_figure
    store_figure "first scan (no cache yet)" 'rm -rf "$NODE/scan-cache"'
    store_figure "warm (cache current)" ":"
    # shellcheck disable=SC2016
    store_figure "after importing 1,000 indicators" \
        'new_bundle; "$CTIX" import --data "$NODE" --collection iocs "$OUT/new-1000.json" >/dev/null ||
            die "import failed"'
    ;;
esac

case " $PARTS " in *" peers "*)
    echo "== (d) peers, same file, 1,000,000 indicators (ioc-1000000.txt), $PEER_RUNS run(s)"
    for p in $PEERS; do
        if ! command -v "$p" >/dev/null 2>&1; then
            # (ripgrep is a peer to measure against, not a dependency: `make deps` leaves it out)
            echo "$p: not installed (apt-get install $([ "$p" = rg ] && echo ripgrep || echo "$p")), skipped"
            continue
        fi
        set --
        for _ in $(seq "$PEER_RUNS"); do
            case $p in
            grep) s=$(secs "$OUT/peer.out" env LC_ALL=C grep -F -f "$DATA/ioc-1000000.txt" "$LOG") ;;
            rg) s=$(secs "$OUT/peer.out" rg -F -f "$DATA/ioc-1000000.txt" "$LOG") ;;
            esac
            set -- "$@" "$s"
        done
        m=$(median "$@")
        echo "$p: $m s (runs: $*), $(wc -l <"$OUT/peer.out") lines reported"
        for c in 1 2; do
            eval "v=\${SCAN_$c:-}"
            [ -n "$v" ] && echo "  ctix on $c core(s) is $(echo "$m $v" |
                awk '{ printf "%.0f", $1 / $2 }')x faster"
        done
    done
    ;;
esac
