#!/bin/sh
# Runs every test program and prints one closing line: "N passed, N failed".
# Unit tests run under ASan+UBSan (build/san/tests/*); end-to-end tests drive
# the sanitizer build of the overlap binary as two real processes.
# OVL_ONLY=unit|e2e|fuzz limits the run to one family. A test that cannot run a
# check here prints "SKIP <what>: <why>"; those lines are counted and repeated
# in the closing summary. The fuzzers' progress is shown as they run.
set -u
B=${OVL_BUILD:-build}
ONLY=${OVL_ONLY:-all}
export OVL_BIN="${OVL_BIN:-$B/san/overlap}"
export OVL_TOOLS="$B/rel/tools"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
pass=0
fail=0
failed_progs=""
skipped=0
skips=$(mktemp)
log=$(mktemp)

record() { # program, exit status, output file
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$3" | tail -n 1)
    p=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\1/')
    f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\2/')
    [ -n "$p" ] || p=0
    [ -n "$f" ] || f=0
    if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed or exited non-zero
    pass=$((pass + p))
    fail=$((fail + f))
    if [ "$f" -ne 0 ]; then
        failed_progs="$failed_progs $1"
        echo "---- $1 FAILED (exit $2); its output:"
        cat "$3"
        echo "----"
    else
        echo "ok   $1: $p checks ($4 s)"
    fi
    # "SKIP what: why" lines, kept for the summary.
    grep -E '^ *SKIP ' "$3" | sed -E "s/^ *SKIP /  $(printf '%s' "$1" | sed 's/[\/&]/\\&/g'): /" >"$skips.one"
    n=$(grep -c . "$skips.one")
    if [ "$n" -gt 0 ]; then
        skipped=$((skipped + n))
        cat "$skips.one" >>"$skips"
        sed 's/^  /skip /' "$skips.one"
    fi
}

run_one() { # label, command...
    label=$1
    shift
    t0=$(date +%s)
    "$@" >"$log" 2>&1
    st=$?
    t1=$(date +%s)
    record "$label" "$st" "$log" $((t1 - t0))
}

if [ "$ONLY" = all ] || [ "$ONLY" = unit ]; then
    # The include rule of STYLE.md (dependencies point one way).
    run_one "checks/includes" sh tests/check_includes.sh
    for t in "$B"/san/tests/test_*; do
        [ -x "$t" ] || continue
        run_one "unit/$(basename "$t")" "$t"
    done
fi
if [ "$ONLY" = all ] || [ "$ONLY" = e2e ]; then
    for t in tests/e2e/test_*.py; do
        [ -f "$t" ] || continue
        run_one "e2e/$(basename "$t" .py)" python3 "$t"
    done
fi
if [ "$ONLY" = all ] || [ "$ONLY" = fuzz ]; then
    if [ -f tests/fuzz/run.sh ]; then
        # Streamed, not captured: the fuzzers run for minutes. In make test each
        # target gets 30 s (make fuzz: 60) so the whole suite stays well under
        # 30 minutes on two cores as targets are added.
        t0=$(date +%s)
        { FUZZ_SECONDS=${FUZZ_SECONDS:-30} sh tests/fuzz/run.sh; echo $? >"$log.st"; } 2>&1 | sed -u 's/^/  /' | tee "$log"
        t1=$(date +%s)
        record "fuzz" "$(cat "$log.st" 2>/dev/null || echo 1)" "$log" $((t1 - t0))
    fi
fi
rm -f "$log" "$log.st" "$skips.one"
[ -n "$failed_progs" ] && echo "failed:$failed_progs"
if [ "$skipped" -gt 0 ]; then
    echo "skipped $skipped checks:"
    cat "$skips"
else
    echo "skipped no checks"
fi
rm -f "$skips"
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
