#!/bin/sh
# Keeps the dependency rule of STYLE.md true: includes point one way,
#   {cli, embed} -> session -> {protocols, policy} -> {crypto, mpc, identity, net, io} -> core,
# protocols and policy never include each other, and include/overlap/ (the
# public API) and examples/ use nothing internal. Each layer's allowed
# targets are one line of the table below. Checks every .c and .h under
# src/, protocols/, include/ and examples/ of ROOT (default: the repository),
# after a self-test on a scratch tree that must fail. Prints
# "N passed, N failed" last.
set -u
ROOT=${1:-.}

# layer: layers it may include ("api" is include/overlap/)
allowed() {
    case $1 in
    core) echo "core" ;;
    crypto) echo "core crypto" ;;
    io) echo "core io" ;;
    net) echo "core crypto net" ;;
    identity) echo "core crypto identity" ;;
    mpc) echo "core crypto mpc" ;;
    protocols) echo "core crypto mpc identity net io protocols" ;;
    policy) echo "core crypto mpc identity net io policy" ;;
    session) echo "core crypto mpc identity net io protocols policy session" ;;
    cli) echo "core crypto mpc identity net io policy session cli api" ;;
    embed) echo "core crypto mpc identity net io policy session embed api" ;;
    api) echo "api" ;;
    example) echo "api" ;;
    *) echo "" ;;
    esac
}

# The layer a file lives in.
layer_of_file() { # path relative to root
    case $1 in
    src/*) d=${1#src/}; echo "${d%%/*}" ;;
    protocols/*) echo protocols ;;
    include/overlap/*) echo api ;;
    examples/*) echo example ;;
    *) echo unknown ;;
    esac
}

# The layer an include "X/..." names.
layer_of_include() { # root, include path
    top=${2%%/*}
    if [ "$top" = "$2" ]; then
        echo local
    elif [ "$top" = overlap ]; then
        echo api
    elif [ -d "$1/src/$top" ] || [ "$(allowed "$top")" != "" ]; then
        echo "$top"
    elif [ -d "$1/protocols/$top" ]; then
        echo protocols
    else
        echo "unknown:$top"
    fi
}

# Checks one tree; prints a line per violation; sets files/bad.
check_tree() { # root
    files=0
    bad=0
    list=$(cd "$1" && find src protocols include examples -name '*.[ch]' 2>/dev/null | sort)
    for f in $list; do
        files=$((files + 1))
        from=$(layer_of_file "$f")
        ok_list=$(allowed "$from")
        if [ -z "$ok_list" ]; then
            echo "$f: layer '$from' is not in the dependency table (tests/check_includes.sh)"
            bad=$((bad + 1))
            continue
        fi
        file_bad=0
        for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1/$f"); do
            to=$(layer_of_include "$1" "$inc")
            [ "$to" = local ] && continue
            case " $ok_list " in
            *" $to "*) ;;
            *)
                echo "$f: includes \"$inc\" ($from -> $to), against the dependency rule"
                file_bad=1
                ;;
            esac
        done
        # The public API and its examples include only <overlap/...> and system headers.
        if [ "$from" = api ] || [ "$from" = example ]; then
            for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$1/$f"); do
                top=${inc%%/*}
                if [ "$top" != "$inc" ] && [ "$top" != overlap ] && [ -d "$1/src/$top" ]; then
                    echo "$f: includes <$inc>: the public API uses nothing internal"
                    file_bad=1
                fi
            done
        fi
        bad=$((bad + file_bad))
    done
}

pass=0
fail=0

# Self-test: a scratch tree with one include of each forbidden kind must
# fail on exactly those files, and a clean one must pass.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/overlap-includes.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/src/core" "$scratch/src/policy" "$scratch/src/session" \
    "$scratch/protocols/psi" "$scratch/include/overlap"
printf '#include "core/buf.h"\n' >"$scratch/src/core/ok.c"
printf '#include "policy/policy.h"\n#include "psi/psi.h"\n' >"$scratch/src/session/ok.c"
check_tree "$scratch" >"$scratch/out"
if [ "$bad" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "self-test: a clean tree was refused:"; cat "$scratch/out"; fi
printf '#include "policy/policy.h"\n' >"$scratch/src/core/up.c"
printf '#include "psi/psi.h"\n' >"$scratch/src/policy/sideways.c"
printf '#include "policy/verifier.h"\n' >"$scratch/protocols/psi/sideways.c"
printf '#include "core/buf.h"\n' >"$scratch/include/overlap/leak.h"
check_tree "$scratch" >"$scratch/out"
if [ "$bad" -eq 4 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "self-test: expected 4 violations, found $bad:"; cat "$scratch/out"; fi

check_tree "$ROOT"
pass=$((pass + files - bad))
fail=$((fail + bad))
echo "check_includes: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
