#!/bin/sh
# Builds every tests/fuzz/fuzz_*.c with libFuzzer + ASan + UBSan against the
# whole library and runs each for FUZZ_SECONDS (default 60) over a scratch
# copy of its seed corpus tests/fuzz/corpus/<name>/ (the repository's corpus
# is never modified; every seed, including past crash reproducers kept there
# as regression cases, is executed first). Targets run FUZZ_JOBS at a time
# (default: online cores). Prints a line as each target starts and ends,
# and "N passed, N failed" last.
#   FUZZ_SECONDS=N  seconds per target     FUZZ_ONLY=name  one target
#   FUZZ_KEEP=1     keep the scratch dir   OVL_BUILD=dir   build root
set -u
SECS=${FUZZ_SECONDS:-60}
B=${OVL_BUILD:-build}
OUT="$B/fuzz"
CLANG=${CLANG:-clang}
JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
PG_INC=$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
FLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DOVL_VERSION=\"fuzz\" \
 -Iinclude -Isrc -Iprotocols -I$PG_INC -Itests/unit -g -O1 -pthread -fno-omit-frame-pointer \
 -fsanitize=address,undefined -fno-sanitize-recover=undefined"
LIBS="-lsodium -lssl -lcrypto -ljansson -lpq -ldl -lpthread -lm"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

if ! command -v "$CLANG" >/dev/null 2>&1; then
    echo "fuzz: $CLANG not found (apt-get install clang libclang-rt-14-dev)"
    echo "0 passed, 1 failed"
    exit 1
fi
mkdir -p "$OUT/obj"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/overlap-fuzz.XXXXXX")
[ "${FUZZ_KEEP:-0}" = 1 ] || trap 'rm -rf "$scratch"' EXIT

# Library objects once, with fuzzer coverage instrumentation (no main).
lib_src=$(ls src/core/*.c src/crypto/*.c src/mpc/*.c src/net/*.c src/io/*.c src/policy/*.c \
          src/session/*.c protocols/*/*.c 2>/dev/null | sort)
objs=""
build_fail=0
for s in $lib_src; do
    o="$OUT/obj/$(printf '%s' "$s" | tr / _ | sed 's/\.c$/.o/')"
    objs="$objs $o"
    if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ -n "$(find include src protocols -name '*.h' -newer "$o" 2>/dev/null | head -n 1)" ]; then
        echo "$s $o"
    fi
done >"$scratch/todo"
# shellcheck disable=SC2086
if [ -s "$scratch/todo" ]; then
    if ! xargs -P "$JOBS" -n 2 sh -c "$CLANG $FLAGS -fsanitize=fuzzer-no-link -c -o \"\$1\" \"\$0\"" \
        <"$scratch/todo" >"$scratch/build.log" 2>&1; then
        echo "fuzz: building the library failed:"
        cat "$scratch/build.log"
        build_fail=1
    fi
fi

pass=0
fail=0
targets=""
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    short=${name#fuzz_}
    if [ -n "${FUZZ_ONLY:-}" ] && [ "$FUZZ_ONLY" != "$short" ] && [ "$FUZZ_ONLY" != "$name" ]; then
        continue
    fi
    if [ "$build_fail" = 1 ]; then
        fail=$((fail + 1))
        continue
    fi
    # shellcheck disable=SC2086
    if ! $CLANG $FLAGS -fsanitize=fuzzer -o "$OUT/$name" "$src" $objs $LIBS >"$scratch/$name.build" 2>&1; then
        echo "FAIL $name: does not build:"
        cat "$scratch/$name.build"
        fail=$((fail + 1))
        continue
    fi
    targets="$targets $short"
done

# Runs one target; writes its verdict to $scratch/<short>.result.
run_target() {
    short=$1
    bin="$OUT/fuzz_$short"
    work="$scratch/$short"
    mkdir -p "$work/corpus" "$work/artifacts"
    [ -d "tests/fuzz/corpus/$short" ] && cp -R "tests/fuzz/corpus/$short/." "$work/corpus/"
    echo "start fuzz_$short (${SECS} s)"
    t0=$(date +%s)
    "$bin" -max_total_time="$SECS" -timeout=30 -rss_limit_mb=2560 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" \
        >"$work/log" 2>&1
    st=$?
    t1=$(date +%s)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
    art=$(ls "$work/artifacts" 2>/dev/null | head -n 1)
    if [ "$st" -eq 0 ] && [ -z "$art" ]; then
        echo "ok   fuzz_$short: ${runs:-?} inputs in $((t1 - t0)) s" >"$work/result"
    else
        {
            echo "FAIL fuzz_$short (exit $st) after $((t1 - t0)) s"
            if [ -n "$art" ]; then
                mkdir -p "$OUT/crashes"
                cp "$work/artifacts/$art" "$OUT/crashes/${short}-$art"
                echo "  reproducer: $OUT/crashes/${short}-$art"
                echo "  replay:     $bin $OUT/crashes/${short}-$art"
            fi
            grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$work/log" | head -n 40
        } >"$work/result"
    fi
    cat "$work/result" # as each target ends: `make test` shows its progress
}

# A small job pool: at most $JOBS targets at once.
ntargets=$(printf '%s\n' $targets | grep -c .)
echo "fuzz: $ntargets targets, $SECS s each, $JOBS at a time (about $(( (ntargets + JOBS - 1) / JOBS * SECS )) s)"
running=0
pids=""
for short in $targets; do
    run_target "$short" &
    pids="${pids:+$pids }$!"
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait "${pids%% *}" 2>/dev/null
        case $pids in *" "*) pids=${pids#* } ;; *) pids="" ;; esac
        running=$((running - 1))
    fi
done
wait
for short in $targets; do
    r="$scratch/$short/result"
    if [ -f "$r" ] && head -n 1 "$r" | grep -q '^ok'; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        [ -f "$r" ] || echo "FAIL fuzz_$short: no result"
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
