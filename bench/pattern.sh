#!/bin/sh
# The patterning engine (src/pattern), three figures of issue 3:
#  (a) ctix against the OASIS reference matcher (stix2-matcher 3.0.0) in the same run, on the same
#      files: 10,000 distinct patterns over one bundle of 40 observed-data, and one pattern over
#      1,000 distinct bundles. Target: ctix >= 100 times faster in both. Both engines must agree on
#      which patterns and bundles match; disagreements are listed.
#  (b) pattern_parse(PATTERN_STRICT) of 1,000,000 indicator patterns: < 5 s on one core.
#  (c) pattern_index_add_text of 1,000,000 equality indicators: < 5 s and < 500 MB peak RSS.
# RUNS (3) runs of each, medians; (b) and (c) run each in a fresh process.
#
#   make bench && bench/pattern.sh
# Environment: BENCH_BIN, RUNS, N (1000000), PARTS ("match parse index"), REF_RUNS (= RUNS),
# C_RUNS (11: ctix's runs of (a) take milliseconds each, and this machine's speed swings for
# hundreds of milliseconds at a time, so more of them make a steadier median),
# PER_BUNDLE (observed-data in each of the 1,000 bundles, 8),
# STIX2_MATCHER_DIR (default /tmp/oasis/cti-pattern-matcher, tag v3.0.0), STIX2_PATTERNS_DIR
# (default /tmp/oasis/cti-pattern-validator, tag v2.0.0), REF_PYTHON (default /usr/bin/python3).
. "$(dirname "$0")/lib.sh"
BIN=$BENCH_BIN/pattern
[ -x "$BIN" ] || die "no $BIN (make bench, or set BENCH_BIN)"
RUNS=${RUNS:-3}
REF_RUNS=${REF_RUNS:-$RUNS}
C_RUNS=${C_RUNS:-11}
N=${N:-1000000}
PARTS=${PARTS:-"match parse index"}
PER_BUNDLE=${PER_BUNDLE:-8}
DATA=build/bench-data/pattern
MATCHER=${STIX2_MATCHER_DIR:-/tmp/oasis/cti-pattern-matcher}
PATTERNS=${STIX2_PATTERNS_DIR:-/tmp/oasis/cti-pattern-validator}
PY=${REF_PYTHON:-/usr/bin/python3}
mkdir -p "$DATA"
fail=0
summary=""

# field NAME TEXT: the value of NAME=... on the first line of TEXT that has it.
field() {
    printf '%s\n' "$2" | sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" | head -n 1
}

# verdict VALUE OP TARGET: "meets" or "MISSES".
verdict() {
    awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
        ok = (op == ">=") ? (v >= t) : (v < t); print ok ? "meets" : "MISSES" }'
}

note() {
    summary="$summary
$*"
}

if printf '%s' "$PARTS" | grep -qw match; then
    "$BIN" gen --dir "$DATA" --seed 1 --per-bundle "$PER_BUNDLE" || die "pattern gen failed"
    rm -f "$DATA"/c-*.res "$DATA"/ref-*.res "$DATA"/disagree-*.txt
    echo "== (a) evaluation: ctix, $C_RUNS runs"
    c_out=$("$BIN" match --dir "$DATA" --runs "$C_RUNS") || fail=1
    printf '%s\n' "$c_out" | sed 's/^/  /'
    c_pat=$(field median_seconds "$(printf '%s\n' "$c_out" | grep '^eval_patterns median')")
    c_bun=$(field median_seconds "$(printf '%s\n' "$c_out" | grep '^eval_bundles median')")
    c_bun2=$(field median_seconds "$(printf '%s\n' "$c_out" | grep '^eval_bundles_2threads median')")
    c_errs=$(printf '%s\n' "$c_out" | grep ' median_seconds=' | sed -n 's/.* errors=\([0-9]*\).*/\1/p' |
        awk '{ s += $1 } END { print s + 0 }')
    [ "$c_errs" = 0 ] || fail=1
    if [ -f "$MATCHER/stix2matcher/matcher.py" ] && [ -f "$PATTERNS/stix2patterns/pattern.py" ]; then
        echo "== (a) evaluation: the reference matcher ($MATCHER, $PATTERNS), $REF_RUNS runs"
        ref_out=$(PYTHONPATH="$MATCHER:$PATTERNS" "$PY" bench/pattern_ref.py --dir "$DATA" \
            --runs "$REF_RUNS") || fail=1
        printf '%s\n' "$ref_out" | sed 's/^/  /'
        r_pat=$(field scaled_seconds "$(printf '%s\n' "$ref_out" | grep '^ref_eval_patterns')")
        r_bun=$(field median_seconds "$(printf '%s\n' "$ref_out" | grep '^ref_eval_bundles runs')")
        if [ -n "$c_pat" ] && [ -n "$r_pat" ] && [ -n "$c_bun" ] && [ -n "$r_bun" ]; then
            x_pat=$(awk -v r="$r_pat" -v c="$c_pat" 'BEGIN { printf "%.1f", r / c }')
            x_bun=$(awk -v r="$r_bun" -v c="$c_bun" 'BEGIN { printf "%.1f", r / c }')
            note "(a) 10,000 patterns x 1 bundle: ctix ${c_pat} s, reference ${r_pat} s:" \
                "${x_pat}x ($(verdict "$x_pat" ">=" 100) target 100x)"
            note "(a) 1 pattern x 1,000 bundles: ctix ${c_bun} s, reference ${r_bun} s:" \
                "${x_bun}x ($(verdict "$x_bun" ">=" 100) target 100x) on one core"
            if [ -n "$c_bun2" ]; then
                x_bun2=$(awk -v r="$r_bun" -v c="$c_bun2" 'BEGIN { printf "%.1f", r / c }')
                note "    on both cores (two threads, the same answers): ctix ${c_bun2} s:" \
                    "${x_bun2}x ($(verdict "$x_bun2" ">=" 100) target 100x)"
            fi
            # The same without JSON parsing on either side: what the engines themselves cost.
            bd=$(printf '%s\n' "$c_out" | grep '^eval_bundles breakdown')
            rbd=$(printf '%s\n' "$ref_out" | grep '^ref_eval_bundles breakdown')
            x_core=$(awk -v o="$(field obs_new_s "$bd")" -v e="$(field eval_s "$bd")" \
                -v m="$(field match_s "$rbd")" 'BEGIN { if (o + e > 0) printf "%.1f", m / (o + e) }')
            note "    without JSON parsing (ctix obs_new+eval vs reference match on loaded" \
                "dicts): ${x_core}x; JSON parsing: ctix $(field json_parse_s "$bd") s," \
                "python json.loads $(field json_loads_s "$rbd") s"
        fi
        for what in patterns bundles; do
            line=$(printf '%s\n' "$ref_out" | grep "^compare_$what")
            note "(a) agreement on $what: $(printf '%s' "$line" | cut -d' ' -f2-)" \
                "(list: $DATA/disagree-$what.txt)"
        done
    else
        echo "reference matcher not found: set STIX2_MATCHER_DIR and STIX2_PATTERNS_DIR" \
            "(see bench/README.md); skipping the comparison"
        note "(a) ctix only: 10,000 patterns ${c_pat} s, 1,000 bundles ${c_bun} s" \
            "(no reference matcher)"
    fi
fi

if printf '%s' "$PARTS" | grep -qw parse; then
    echo "== (b) parse + strict validation of $N patterns, $RUNS processes"
    secs=""
    run=1
    while [ $run -le "$RUNS" ]; do
        out=$("$BIN" parse --n "$N" --seed 1 --runs 1) || fail=1
        if [ $run -eq 1 ]; then
            printf '%s\n' "$out" | sed 's/^/  /'
        else
            printf '%s\n' "$out" | grep '^parse median' | sed 's/^/  /'
        fi
        secs="$secs $(field median_seconds "$(printf '%s\n' "$out" | grep '^parse median')")"
        rss=$(field peak_rss_kb "$(printf '%s\n' "$out" | grep '^parse median')")
        run=$((run + 1))
    done
    m=$(median $secs)
    note "(b) parse $N patterns (strict): median $m s over$secs," \
        "$(awk -v n="$N" -v s="$m" 'BEGIN { printf "%.0f", n / s }') patterns/s," \
        "peak RSS $((rss / 1024)) MiB ($(verdict "$m" "<" 5) target < 5 s)"
fi

if printf '%s' "$PARTS" | grep -qw index; then
    echo "== (c) index of $N equality indicators, $RUNS processes"
    secs=""
    rsss=""
    run=1
    while [ $run -le "$RUNS" ]; do
        out=$("$BIN" index --n "$N" --seed 1) || fail=1
        printf '%s\n' "$out" | sed 's/^/  /'
        secs="$secs $(field seconds "$(printf '%s\n' "$out" | grep '^index seconds')")"
        rsss="$rsss $(field peak_rss_kb "$out")"
        run=$((run + 1))
    done
    m=$(median $secs)
    r=$(median $rsss)
    mb=$(awk -v k="$r" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }')
    note "(c) index $N equality indicators: median $m s over$secs," \
        "$(awk -v n="$N" -v s="$m" 'BEGIN { printf "%.0f", n / s }') indicators/s" \
        "($(verdict "$m" "<" 5) target < 5 s); peak RSS median $mb MB over$rsss kB" \
        "($(verdict "$mb" "<" 500) target < 500 MB; the pattern text itself is in it)"
fi

echo "== summary"
printf '%s\n' "$summary" | sed '/^$/d'
exit $fail
