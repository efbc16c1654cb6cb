#!/bin/sh
# Runs every suite of `make test`: the cmocka unit tests beside the code, the integration tests that
# start the real ctix binary, and the fuzz corpora and regressions replayed through each target.
# Prints one line per suite and ends with "N passed, N failed, N skipped".
# Environment: BUILD (build/rel or build/san), CTIX_BIN (the ctix binary).
set -u
BUILD=${BUILD:-build/rel}
export CTIX_BIN=${CTIX_BIN:-$BUILD/ctix}
export CTIX_SHARED=${CTIX_SHARED:-../shared/data}
logdir=$BUILD/test/logs
mkdir -p "$logdir"
passed=0 failed=0 skipped=0

# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:".
count() { sed -n "s/^\[  $1 *\] \([0-9]*\) test(s).*/\1/p" "$2" | tail -n 1; }

run_cmocka() {
    bin=$1 name=$2
    log=$logdir/$name.log
    start=$(date +%s)
    "$bin" >"$log" 2>&1
    rc=$?
    p=$(count PASSED "$log"); f=$(count FAILED "$log"); s=$(count SKIPPED "$log")
    p=${p:-0} f=${f:-0} s=${s:-0}
    # A crash or an exit without cmocka's summary is a failure even if nothing says so.
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if ! grep -q '^\[==========\] .* run\.' "$log" && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    printf '%-40s %4d passed %3d failed %3d skipped  %ss\n' "$name" "$p" "$f" "$s" $(( $(date +%s) - start ))
    if [ "$f" -ne 0 ]; then sed 's/^/    /' "$log" | grep -v '^    \[ *\(RUN\|OK\) ' | tail -n 40; fi
}

for bin in $(find "$BUILD/test/unit" -type f -name '*_test' 2>/dev/null | sort); do
    name=unit/${bin#$BUILD/test/unit/}
    run_cmocka "$bin" "$(echo "$name" | tr / _)"
done
# The scan sieve again on its portable passes and on its AVX2 ones (the default picks the
# CPU's widest vector and bit-instruction passes, AVX-512 where it has them): all must give the
# same answers.
if [ -x "$BUILD/test/unit/scan/sieve_test" ]; then
    export CTIX_SIEVE_SCALAR=1
    run_cmocka "$BUILD/test/unit/scan/sieve_test" unit_scan_sieve_test_portable
    unset CTIX_SIEVE_SCALAR
    export CTIX_SIEVE_AVX2=1
    run_cmocka "$BUILD/test/unit/scan/sieve_test" unit_scan_sieve_test_avx2
    unset CTIX_SIEVE_AVX2
fi
for bin in $(find "$BUILD/test/integration" -type f -name '*_test' 2>/dev/null | sort); do
    name=integration/${bin#$BUILD/test/integration/}
    run_cmocka "$bin" "$(echo "$name" | tr / _)"
done
for bin in $(find "$BUILD/test/fuzzcheck" -type f -name '*_fuzz' 2>/dev/null | sort); do
    rel=${bin#$BUILD/test/fuzzcheck/}         # e.g. stix/validate_fuzz
    target=$(echo "${rel%_fuzz}" | tr / _)    # e.g. stix_validate
    log=$logdir/fuzz_$target.log
    if "$bin" "fuzz/corpus/$target" "fuzz/regress/$target" >"$log" 2>&1; then
        passed=$((passed + 1)); r=ok
    else
        failed=$((failed + 1)); r=FAILED; sed 's/^/    /' "$log" | tail -n 20
    fi
    printf '%-40s %s (%s)\n' "fuzzcheck/$target" "$r" "$(tail -n 1 "$log")"
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
