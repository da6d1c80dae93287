# icsentry - edge security monitor for industrial networks.
#
#   make            build build/icsentry-agent, icsentry-collector, icsentry-log,
#                   icsentry-intel
#   make test       install missing Debian packages, build, check the
#                   dependency graph (tests/depgraph.py), run every test
#   make asan-test  the same tests, built with AddressSanitizer + UBSan
#   make demo       broker + collector + agent replaying an attack capture,
#                   and the SOC console (icsentry-web) showing the alerts
#   make demo-fleet two site brokers bridged to a central one, 3 agents,
#                   2 collectors, one central log
#   make eval       detection quality on the labeled generated scenarios
#   make eval-variant  its third part alone: off the generator's numbers, stack-copying attacker
#   make eval-catalogue  single-technique scenarios per protocol (tests/gen_catalogue.py)
#   make fuzz       libFuzzer targets for every packet parser (FUZZ_RUNS=N)
#   make bench      speed and memory against a bare libpcap read
#   make bench-central  central log write rate and query latency (BENCH_SIZES)
#   make deps       apt-get install what is missing
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        Debian packages in build/deb (mk/deb.mk); make deb-test

BUILD    ?= build
SAN      ?=
PREFIX   ?= /usr/local
SHARED   ?= ../shared
PYTHON   ?= python3
# test suites run at once by make test (check_live runs alone)
TEST_JOBS ?= 2
CC       ?= cc
CLANG    ?= clang

PKGS     := libpcap libndpi inih libcjson sqlite3 libpq libcrypto libmicrohttpd libssl check
DEB_PKGS := build-essential pkg-config libpcap-dev libndpi-dev libpaho-mqtt-dev \
            libsqlite3-dev check mosquitto mosquitto-clients libinih-dev \
            libcjson-dev libssl-dev clang libclang-rt-14-dev ieee-data \
            libndpi-bin python3 openssl tcpreplay iproute2 clang-format \
            libpq-dev postgresql debhelper dpkg-dev lintian fakeroot tshark \
            libmicrohttpd-dev libjs-chart.js curl chromium chromium-driver \
            python3-selenium rsyslog rsyslog-openssl prometheus

# Third-party headers as -isystem so their warnings are not ours.
PKG_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
PKG_LIBS   := $(shell pkg-config --libs libpcap libndpi inih libcjson sqlite3 libpq libcrypto libmicrohttpd libssl 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
MQTT_LIBS  := -lpaho-mqtt3as

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wvla -Wimplicit-fallthrough \
            -Wcast-align -Wno-unused-parameter
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 $(WARN) -fstack-protector-strong -fPIE
# Includes name their folder from the top: #include "lib/rd.h".
CPPFLAGS += -D_GNU_SOURCE -I. $(PKG_CFLAGS)
LDFLAGS  += -pie -Wl,-z,relro,-z,now
LDLIBS   += $(PKG_LIBS) $(MQTT_LIBS) -lpthread -lm

ifeq ($(SAN),1)
CFLAGS   := $(filter-out -O2,$(CFLAGS)) -O1 -fno-omit-frame-pointer \
            -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=address,undefined
else
CPPFLAGS += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif

# Everything but the three main()s is a library, so tests link the real code.
# Folders depend one way: lib <- dissectors <- detectors <- agent; lib <- broker
# (tests/depgraph.py checks it).
CORE_SRCS   := $(wildcard lib/*.c) $(wildcard dissectors/*.c) \
               $(wildcard detectors/*.c) $(filter-out agent/main.c,$(wildcard agent/*.c))
# icsentry-intel: intel.c, intel_new.c, intel_main.c (intel_log.c is the library's)
INTEL_SRCS  := broker/intel.c broker/intel_new.c broker/intel_main.c
BROKER_SRCS := $(filter-out broker/collector_main.c broker/log_cli.c $(INTEL_SRCS),$(wildcard broker/*.c))
TEST_SRCS   := $(wildcard tests/check_*.c)
TESTUTIL    := $(wildcard tests/testutil*.c)
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
# What the fuzz targets link: the pure byte parsers only.
FUZZ_LIB    := $(filter-out dissectors/dissect.c dissectors/flow.c,$(wildcard dissectors/*.c)) \
               lib/ids.c lib/json.c

OBJ         = $(BUILD)/obj
CORE_OBJS   = $(CORE_SRCS:%.c=$(OBJ)/%.o)
BROKER_OBJS = $(BROKER_SRCS:%.c=$(OBJ)/%.o)
TESTU_OBJS  = $(TESTUTIL:%.c=$(OBJ)/%.o)
TESTS       = $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
FUZZERS     = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
BINS        = $(BUILD)/icsentry-agent $(BUILD)/icsentry-collector $(BUILD)/icsentry-log \
              $(BUILD)/icsentry-intel $(BUILD)/icsentry-web
# the SOC console (web/): its C, and its page embedded from web/static
WEB_SRCS    := $(wildcard web/*.c)
WEB_STATIC  := $(wildcard web/static/*)
WEB_LIBS    := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)

.PHONY: format-check depgraph all test check asan-test demo demo-fleet eval eval-variant eval-catalogue fuzz bench bench-storm \
        bench-central deps need-deps \
        install uninstall clean tests
.DEFAULT_GOAL := all

all: $(BINS)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libicsentry.a: $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libicsbroker.a: $(BROKER_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/icsentry-agent: $(OBJ)/agent/main.o $(BUILD)/libicsentry.a
	$(CC) $(LDFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/icsentry-collector: $(OBJ)/broker/collector_main.o $(BUILD)/libicsbroker.a $(BUILD)/libicsentry.a
	$(CC) $(LDFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/icsentry-log: $(OBJ)/broker/log_cli.o $(BUILD)/libicsbroker.a $(BUILD)/libicsentry.a
	$(CC) $(LDFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/icsentry-intel: $(INTEL_SRCS:%.c=$(OBJ)/%.o) $(BUILD)/libicsbroker.a $(BUILD)/libicsentry.a
	$(CC) $(LDFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/gen/web_assets.c: web/embed.py $(WEB_STATIC)
	@mkdir -p $(dir $@)
	$(PYTHON) web/embed.py $@ $(WEB_STATIC)

$(BUILD)/gen/web_assets.o: $(BUILD)/gen/web_assets.c web/assets.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/icsentry-web: $(WEB_SRCS:%.c=$(OBJ)/%.o) $(BUILD)/gen/web_assets.o \
    $(BUILD)/libicsbroker.a $(BUILD)/libicsentry.a
	$(CC) $(LDFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS) $(WEB_LIBS)

$(BUILD)/tests/%: $(OBJ)/tests/%.o $(TESTU_OBJS) $(BUILD)/libicsbroker.a $(BUILD)/libicsentry.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

# LD_PRELOAD library check_fleet uses to see the order of syncs and sends
$(BUILD)/tests/libsyncshim.so: tests/syncshim.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fPIC -shared -o $@ $< -ldl -lpthread

tests: $(BINS) $(TESTS) $(BUILD)/scenarios.stamp $(BUILD)/tests/libsyncshim.so \
       $(BUILD)/robust.stamp

# ---- generated scenario captures (never committed) ----------------------
GEN := $(SHARED)/tools/ics_traffic_gen.py
SCN := $(SHARED)/tools/scenarios
$(BUILD)/scenarios.stamp: $(GEN) tests/e2e/fast-attacks.json
	@mkdir -p $(BUILD)/scenarios
	$(PYTHON) $(GEN) --scenario $(SCN)/factory-attacks.json \
	    --out $(BUILD)/scenarios/factory-attacks.pcap \
	    --labels $(BUILD)/scenarios/factory-attacks.labels.json
	$(PYTHON) $(GEN) --scenario $(SCN)/factory-benign.json \
	    --out $(BUILD)/scenarios/factory-benign.pcap
	$(PYTHON) $(GEN) --scenario tests/e2e/fast-attacks.json --duration 10 \
	    --out $(BUILD)/scenarios/fast-attacks.pcap
	@touch $@

# Captures that attack the agent's own state (tests/check_robust.c): TCP
# sequence numbers 2^31 away and wrapping, 1M flows, 100,000 Modbus points,
# 10,000 DNP3 link addresses, a reassembly hole per flow (~85 MB).
$(BUILD)/robust.stamp: tests/robust/gen_captures.py
	@mkdir -p $(BUILD)/robust
	$(PYTHON) tests/robust/gen_captures.py --out $(BUILD)/robust
	@touch $@

# ---- tests --------------------------------------------------------------
# need-deps: install Debian packages only when something is missing.
need-deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || \
	    ! pkg-config --exists $(PKGS) || [ ! -f /usr/include/MQTTAsync.h ] || \
	    { ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; } || \
	    ! command -v tcpreplay >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1 || \
	    ! command -v tshark >/dev/null 2>&1 || \
	    ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	    ! pkg-config --exists libmicrohttpd || ! command -v chromedriver >/dev/null 2>&1 || \
	    ! command -v curl >/dev/null 2>&1 || \
	    [ ! -f /usr/share/javascript/chart.js/chart.min.js ] || \
	    [ ! -d /usr/lib/python3/dist-packages/selenium ] || \
	    [ ! -x /usr/sbin/rsyslogd ] || [ ! -x /usr/bin/prometheus ] || \
	    ! ls /usr/lib/*/rsyslog/lmnsd_ossl.so >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory deps; fi

deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || \
		    missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	echo "deps: installing$$missing"; \
	SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing

# the SOC console in headless chromium (UI_TESTS= leaves it out)
UI_TESTS ?= tests/web/test_console.py

test check: need-deps
	@$(MAKE) --no-print-directory tests
	@$(PYTHON) tests/depgraph.py --obj $(BUILD)/obj
	@ICSENTRY_BUILD=$(BUILD) ICSENTRY_SAN=$(SAN) SHARED=$(SHARED) TEST_JOBS=$(TEST_JOBS) sh tests/run-tests.sh $(TESTS) $(UI_TESTS)

asan-test: need-deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 test

# .clang-format is the code's KNF; these files are formatted with it (the
# rest predates it and is kept as written, to keep history readable).
FORMAT_FILES := lib/atomic.c lib/json.c lib/rfc3339.c dissectors/proto.c \
                dissectors/registry.c detectors/services.c dissectors/hartip.c \
                tests/check_lib.c tests/check_hartip.c \
                tests/check_detector_config.c tests/fuzz/fuzz_hartip.c \
                lib/log.c agent/ops.c agent/opscli.c detectors/baseline_ckpt.c \
                 tests/check_ops.c broker/log_opts.c detectors/wintab.c \
                 tests/testutil_agent.c tests/testutil_log.c \
                 lib/htab.c lib/htab.h tests/check_htab.c \
                 agent/mqtt_out_index.c agent/mqtt_out_latency.c \
                 dissectors/opcua_svc.c dissectors/dnp3_file.c
CLANG_FORMAT ?= clang-format

format-check:
	@$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES) && \
	    echo "format-check: $(words $(FORMAT_FILES)) files match .clang-format"

# lib <- dissectors <- detectors <- agent, lib <- broker; no file cycles
depgraph: all
	@$(PYTHON) tests/depgraph.py --obj $(BUILD)/obj

# ---- demo, eval, fuzz, bench --------------------------------------------
demo: need-deps
	@$(MAKE) --no-print-directory all $(BUILD)/scenarios.stamp
	@BUILD=$(BUILD) SHARED=$(SHARED) sh tests/demo.sh

demo-fleet: need-deps
	@$(MAKE) --no-print-directory all $(BUILD)/scenarios.stamp
	@BUILD=$(BUILD) SHARED=$(SHARED) sh tests/demo-fleet.sh

eval: need-deps
	@$(MAKE) --no-print-directory $(BUILD)/icsentry-agent
	@rc=0; BUILD=$(BUILD) SHARED=$(SHARED) $(PYTHON) tests/eval.py || rc=1; \
	echo; BUILD=$(BUILD) SHARED=$(SHARED) $(PYTHON) tests/eval_learn.py || rc=1; \
	echo; BUILD=$(BUILD) SHARED=$(SHARED) $(PYTHON) tests/eval_variant.py || rc=1; \
	exit $$rc

# the variant part of make eval alone: off the generator's numbers, with a
# stack-copying attacker (README "Detection quality")
eval-variant: need-deps
	@$(MAKE) --no-print-directory $(BUILD)/icsentry-agent
	@BUILD=$(BUILD) SHARED=$(SHARED) $(PYTHON) tests/eval_variant.py

# single-technique scenarios per protocol (tests/gen_catalogue.py; findings,
# not a gate yet: README "Detection quality")
eval-catalogue: need-deps
	@$(MAKE) --no-print-directory $(BUILD)/icsentry-agent
	@BUILD=$(BUILD) SHARED=$(SHARED) $(PYTHON) tests/eval_catalogue.py

FUZZ_RUNS ?= 20000
# FUZZ_SECONDS=N: each target runs N seconds instead of FUZZ_RUNS inputs
FUZZ_SECONDS ?=
FUZZ_FLAGS := -std=c11 -g -O1 -D_GNU_SOURCE -I. $(PKG_CFLAGS) \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# The parsers are compiled once, into $(BUILD)/fuzzobj with the same
# coverage and sanitizers (-fsanitize=fuzzer-no-link,address,undefined),
# and linked into every target, not compiled again for each.
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB:%.c=$(BUILD)/fuzzobj/%.o)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^ $(shell pkg-config --libs libcjson 2>/dev/null) -lm

# The bundle parser needs libcrypto (Ed25519) and its own lib/ files.
$(BUILD)/fuzz/fuzz_intel_bundle: tests/fuzz/fuzz_intel_bundle.c lib/intel_bundle.c \
    lib/intel_sign.c lib/intel_set.c \
    lib/rfc3339.c lib/ids.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^ $(shell pkg-config --libs libcjson libcrypto 2>/dev/null) -lm

# The pipeline target links the whole agent library, built again with
# clang's coverage instrumentation and ASan + UBSan.
FUZZ_OBJ    = $(BUILD)/fuzzobj
FUZZ_CORE   = $(CORE_SRCS:%.c=$(FUZZ_OBJ)/%.o)
FUZZ_CC     := -std=c11 -g -O1 -fno-omit-frame-pointer \
               -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
$(FUZZ_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) $(FUZZ_CC) -MMD -MP -c -o $@ $<

$(BUILD)/fuzz/fuzz_pipeline: tests/fuzz/fuzz_pipeline.c $(FUZZ_CORE)
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) $(FUZZ_CC) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# The collector's intake: collector.c (main() is in collector_main.c, which
# the fuzzer leaves out: libFuzzer has one).
$(BUILD)/fuzz/fuzz_collector: tests/fuzz/fuzz_collector.c \
    $(BROKER_SRCS:%.c=$(FUZZ_OBJ)/%.o) $(FUZZ_CORE)
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) $(FUZZ_CC) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz: need-deps $(FUZZERS) $(BUILD)/icsentry-intel
	@SHARED=$(SHARED) BUILD=$(BUILD) FUZZ_RUNS=$(FUZZ_RUNS) \
	    FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZERS)

bench: need-deps all
	@$(MAKE) --no-print-directory $(BUILD)/bench/pcapcount
	@BUILD=$(BUILD) SHARED=$(SHARED) $(PYTHON) tests/bench.py
	@$(MAKE) --no-print-directory bench-storm

# make bench-storm: an alert storm (~50,000 alerts) with the MQTT journal
# and the state file on against alerts off: ratio, alerts/s, latency p99.
bench-storm: need-deps all
	@BUILD=$(BUILD) SHARED=$(SHARED) $(PYTHON) tests/bench/storm.py

$(BUILD)/bench/pcapcount: tests/bench/pcapcount.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PKG_LIBS)

# make bench-central: the central log's write rate (real mosquitto, real
# collectors, SQLite and PostgreSQL) and icsentry-log latency on large logs.
# BENCH_SIZES: log sizes for the latency table (10 M takes hours here).
BENCH_SIZES ?= 1000000 10000000
bench-central: need-deps all
	@$(MAKE) --no-print-directory $(BUILD)/bench/clog_fill
	@BUILD=$(BUILD) BENCH_SIZES="$(BENCH_SIZES)" $(PYTHON) tests/bench_central.py

$(BUILD)/bench/clog_fill: $(OBJ)/tests/bench/clog_fill.o $(BUILD)/libicsbroker.a $(BUILD)/libicsentry.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
include mk/cross.mk mk/install.mk mk/deb.mk
