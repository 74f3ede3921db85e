#!/bin/sh
# Runs the ctgrind-style constant-time check (tests/ct/ct_check.c) under
# valgrind memcheck. Secrets are marked undefined; every report not in
# tests/ct/ct.supp (reviewed, benign) is a secret-dependent branch or memory
# access and fails the check. usage: run.sh CT_CHECK_BINARY
set -u
bin=${1:?usage: run.sh CT_CHECK_BINARY}
if ! command -v valgrind >/dev/null 2>&1; then
    echo "ct: valgrind not installed (apt-get install valgrind)"
    exit 1
fi
log=$(mktemp)
# Valgrind cannot execute AVX-512; the IFMA code is checked through its
# emulated build (ct_check.c).
OVL_ARITH=portable valgrind --tool=memcheck --error-exitcode=1 --suppressions=tests/ct/ct.supp \
    --num-callers=8 --track-origins=no "$bin" >"$log" 2>&1
st=$?
grep '^ct_check:' "$log"
n=$(grep -c 'depends on uninitialised\|Use of uninitialised' "$log")
if [ "$st" -ne 0 ]; then
    echo "ct: $n secret-dependent branch(es) or access(es) found; first frames of each:"
    awk '/depends on uninitialised|Use of uninitialised/ {p=4; print "  " $0; next}
         p > 0 {p--; print "  " $0}' "$log" | sed 's/==[0-9]*== //'
    rm -f "$log"
    exit 1
fi
echo "ct: no secret-dependent branch or memory access outside tests/ct/ct.supp"
rm -f "$log"
