# overlap — build, test, demo and benchmarks.
# `make` builds ./overlap and its manual page; `make test` runs every check;
# `make demo` runs two data owners over loopback on the bundled sample tables;
# `make install` (PREFIX, DESTDIR) installs both.

CC      ?= cc
CLANG   ?= clang
BUILD   ?= build
VERSION := 0.1.0
PREFIX  ?= /usr/local

# libpq's headers live outside the default search path on Debian.
PG_INC  := $(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)

WARN    := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wvla \
           -Wformat=2 -Wno-format-nonliteral
BASE    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DOVL_VERSION='"$(VERSION)"' \
           -Iinclude -Isrc -Iprotocols -I$(PG_INC) -pthread -g -fvisibility=hidden -MMD -MP
CFLAGS_REL  := $(BASE) $(WARN) -O2
CFLAGS_SAN  := $(BASE) $(WARN) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined
# libsqlite3 is loaded only while a SQLite database is open (src/io/sqlite_api.h);
# tests that build their own SQLite files link it directly, and test_r255x8 checks
# the field arithmetic against GMP (the program itself needs neither).
LDLIBS  := -lsodium -lssl -lcrypto -ljansson -lpq -ldl -lpthread -lm

LIB_SRC  := $(sort $(wildcard src/core/*.c src/crypto/*.c src/mpc/*.c src/net/*.c src/io/*.c src/policy/*.c \
                              src/session/*.c src/embed/*.c \
                              protocols/*/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

REL_LIB  := $(BUILD)/rel/libovl.a
SAN_LIB  := $(BUILD)/san/libovl.a
REL_OBJ  := $(LIB_SRC:%.c=$(BUILD)/rel/%.o)
SAN_OBJ  := $(LIB_SRC:%.c=$(BUILD)/san/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/san/tests/%)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/rel/tools/%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

DEB_PKGS := build-essential libsodium-dev libssl-dev libgmp-dev libjansson-dev \
            clang libclang-rt-14-dev python3 iproute2 valgrind \
            libsqlite3-dev libpq-dev postgresql

.PHONY: all examples deps test unit e2e vectors check-vectors demo bench bench-gc bench-compare bench-sources bench-large \
        fuzz valgrind ct netsim clean san tools man install uninstall

# Building never installs anything: `make deps` does, explicitly, and the
# targets that run tests or the demo call it first.
all: overlap examples man

# Installs the Debian packages the build and tests need (idempotent). Without
# root it only says what is missing.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make deps: installing$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null || \
	      { echo "make deps: apt-get install$$missing failed" >&2; exit 1; }; \
	  else \
	    echo "make deps: missing Debian packages:$$missing (run: sudo apt-get install$$missing)" >&2; exit 1; \
	  fi; \
	fi

# The embedding example (examples/embed.c): the public API, include/overlap/overlap.h.
EXAMPLE_BIN := $(patsubst examples/%.c,$(BUILD)/rel/examples/%,$(wildcard examples/*.c))
examples: $(EXAMPLE_BIN)
$(BUILD)/rel/examples/%: examples/%.c include/overlap/overlap.h $(REL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -o $@ $< $(REL_LIB) $(LDLIBS)

overlap: $(BUILD)/rel/overlap
	@cp $< $@

# The manual page, generated from the help texts (doc/gen_man.py).
MAN := $(BUILD)/overlap.1
man: $(MAN)
$(MAN): $(BUILD)/rel/overlap doc/gen_man.py
	python3 doc/gen_man.py $(BUILD)/rel/overlap >$@.tmp && mv $@.tmp $@

install: overlap $(MAN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 overlap $(DESTDIR)$(PREFIX)/bin/overlap
	install -m 0644 $(MAN) $(DESTDIR)$(PREFIX)/share/man/man1/overlap.1
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/overlap $(DESTDIR)$(PREFIX)/share/man/man1/overlap.1

$(BUILD)/rel/overlap: $(CLI_SRC:%.c=$(BUILD)/rel/%.o) $(REL_LIB)
	$(CC) $(CFLAGS_REL) -o $@ $^ $(LDLIBS)

$(BUILD)/san/overlap: $(CLI_SRC:%.c=$(BUILD)/san/%.o) $(SAN_LIB)
	$(CC) $(CFLAGS_SAN) -o $@ $^ $(LDLIBS)

$(REL_LIB): $(REL_OBJ)
	@rm -f $@; ar rcs $@ $^
$(SAN_LIB): $(SAN_OBJ)
	@rm -f $@; ar rcs $@ $^

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -c -o $@ $<
$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) -c -o $@ $<

$(BUILD)/san/tests/%: tests/unit/%.c tests/unit/test.h $(SAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) -Itests/unit -o $@ $< $(SAN_LIB) $(LDLIBS) -lsqlite3 -lgmp

$(BUILD)/rel/tools/%: tests/tools/%.c $(REL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -Itests/unit -o $@ $< $(REL_LIB) $(LDLIBS)

san: $(BUILD)/san/overlap $(UNIT_BIN)
tools: $(TOOL_BIN)

# Everything: unit tests and end-to-end tests under ASan+UBSan, our vectors
# regenerated and compared, and short fuzz runs.
test: deps overlap examples san tools
	@OVL_BUILD=$(BUILD) sh tests/run.sh

unit: san
	@OVL_BUILD=$(BUILD) OVL_ONLY=unit sh tests/run.sh
e2e: overlap examples san tools
	@OVL_BUILD=$(BUILD) OVL_ONLY=e2e sh tests/run.sh

# ---- hostile networks and inputs (README: "Testing against hostile networks and peers")
FUZZ_SECONDS ?= 60
# Each libFuzzer target for FUZZ_SECONDS over a scratch copy of its corpus.
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) OVL_BUILD=$(BUILD) sh tests/fuzz/run.sh
# Every network scenario in namespaces (root; skips with a message otherwise).
netsim: deps overlap san tools
	@OVL_BUILD=$(BUILD) OVL_BIN=$(BUILD)/san/overlap OVL_TOOLS=$(BUILD)/rel/tools \
	  OVL_NETSIM_FULL=1 python3 tests/e2e/test_netsim_e2e.py
# The end-to-end tests with the release binary under valgrind memcheck.
valgrind: deps overlap tools
	@OVL_BUILD=$(BUILD) OVL_ONLY=e2e OVL_BIN=$(CURDIR)/tests/ct/overlap-valgrind.sh \
	  OVL_VALGRIND_BIN=$(CURDIR)/$(BUILD)/rel/overlap OVL_VALGRIND=1 sh tests/run.sh
# Secret-dependent branches and memory accesses (ctgrind-style, valgrind).
ct: deps $(REL_LIB)
	@mkdir -p $(BUILD)/ct
	$(CC) $(CFLAGS_REL) -o $(BUILD)/ct/ct_check tests/ct/ct_check.c $(REL_LIB) $(LDLIBS)
	@sh tests/ct/run.sh $(BUILD)/ct/ct_check
# ---- end hostile networks and inputs

# Regenerates vectors/*.json from fixed seeds (review the diff before committing).
vectors: tools
	$(BUILD)/rel/tools/gen_vectors vectors

demo: deps all
	@sh tests/demo.sh

# ---- benchmarks (BENCHMARKS.md; never part of `make test`)
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/rel/bench/%,$(wildcard tests/bench/*.c))
$(BUILD)/rel/bench/%: tests/bench/%.c $(REL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -o $@ $< $(REL_LIB) $(LDLIBS)
# Calibration, then two-party PSI at 2^16, 2^18 and 2^20 rows per party, then aggregates
# over real processes (the attribution template at 2^20 against ECDH-PSI on the same sets;
# 8/64/512 cells at 2^16 against the SPEC's cost formula), then garbled circuits (AES-128 over
# loopback TLS), then circuit PSI, then aggregates v2 in one process (2^20 at 32 cells, 2^16 at
# 8, 64 and 512 cells), then multi-party PSI with 3 members of 2^18 identifiers, in one process
# and over real processes (a JSON line each), then conditions across parties at caps 1, 2, 4, 8
# (one JSON line per cap), then the same window at caps 1, 2, 4 between two overlap processes.
bench: deps overlap tools $(BENCH_BIN)
	@python3 tests/bench/bench.py --calibrate $(BUILD)/rel/bench/calibrate --sizes 16,18,20 --section bench --gc
	@echo "bench: circuit PSI cardinality at 2^20 (one process, one thread; BENCHMARKS.md 'Circuit PSI')"
	@$(BUILD)/rel/bench/cpsi_bench 20
	@echo "bench: circuit PSI cardinality at 2^20 with two overlap processes over loopback TLS, vs the ECDH bound (BENCHMARKS.md 'Circuit PSI')"
	@python3 tests/bench/cpsi_pair.py --sizes 20 --calibrate $(BUILD)/rel/bench/calibrate
	@echo "bench: aggregates v2 at 2^20, attribution template 8x4 cells (one thread per party; BENCHMARKS.md 'Aggregates v2')"
	@$(BUILD)/rel/bench/agg2_bench 20 8 4
	@echo "bench: aggregates v2 bytes against the formula at 8, 64 and 512 cells, 2^16 (BENCHMARKS.md 'Aggregates v2')"
	@for s in "2 4" "8 8" "32 16"; do $(BUILD)/rel/bench/agg2_bench 16 $$s; done
	@echo "bench: multi-party PSI, 3 members of 2^18 (one thread each; BENCHMARKS.md 'Multi-party PSI')"
	@$(BUILD)/rel/bench/mpsi_bench 18 3
	@echo "bench: multi-party PSI over processes, run --parties 3 on loopback TLS, 2^18 each (BENCHMARKS.md 'Multi-party PSI')"
	@python3 tests/bench/mpsi_procs.py --bin $(BUILD)/rel/overlap --calib $(BUILD)/rel/bench/mpsi_bench --log2 18 --members 3 --threads 2
	@echo "bench: conditions across parties, the 30-day window at caps 1, 2, 4, 8, 2^20 per party, vs ECDH PSI (one thread; CONDITIONS.md §6; about 4 GB of RAM and 10-25 minutes per cap)"
	@$(BUILD)/rel/bench/conditions_bench 20 1,2,4,8
	@echo "bench: conditions across parties with two overlap processes over loopback TLS, 2^20 per party, caps 1, 2, 4, vs ECDH-PSI on the same tables (BENCHMARKS.md 'Pair conditions')"
	@python3 tests/bench/cond_pair.py --sizes 20 --caps 1,2,4 --bin $(BUILD)/rel/overlap --md BENCHMARKS.md
# Only the garbled-circuit scenario of make bench (AND gates/s, bytes per AND, AES-128 latency).
bench-gc: deps overlap tools $(BENCH_BIN)
	@python3 tests/bench/bench.py --gc-only --section bench
# The same plus OpenMined PSI (npm @openmined/psi.js) within 20 minutes.
bench-compare: deps overlap $(BENCH_BIN)
	@python3 tests/bench/bench.py --calibrate $(BUILD)/rel/bench/calibrate --sizes 16,18,20 --section bench-compare --compare
# Loading 2^20 rows from CSV, SQLite and PostgreSQL (also the end of `make bench`).
bench-sources: deps overlap $(BENCH_BIN)
	@python3 tests/bench/bench.py --calibrate $(BUILD)/rel/bench/calibrate --sources-only
# 2^24 rows per party (about 30 minutes or more on 2 cores, 24 GiB RAM).
bench-large: deps overlap $(BENCH_BIN)
	@python3 tests/bench/bench.py --calibrate $(BUILD)/rel/bench/calibrate --sizes 24 --section bench-large
-include $(BENCH_BIN:=.d)
# ---- end benchmarks

clean:
	rm -rf $(BUILD) overlap

-include $(REL_OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(CLI_SRC:%.c=$(BUILD)/rel/%.d) $(CLI_SRC:%.c=$(BUILD)/san/%.d) \
         $(UNIT_BIN:=.d) $(TOOL_BIN:=.d)
