#!/bin/sh
# Runs the release overlap binary under valgrind memcheck; `make valgrind`
# points the end-to-end tests at this wrapper (OVL_BIN). Any memory error or
# definite leak makes the command exit 99, which fails the test using it.
# Valgrind cannot execute AVX-512: the portable (libsodium) arithmetic runs.
OVL_ARITH=portable exec valgrind -q --tool=memcheck --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    "${OVL_VALGRIND_BIN:-build/rel/overlap}" "$@"
