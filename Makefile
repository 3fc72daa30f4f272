# promshim - Prometheus metrics for unmodified Linux programs (LD_PRELOAD).
#
#   make            build build/libpromshim.so and the test programs
#   make test       install what is missing (scripts/deps.sh), build, run every test
#   make demo       install what is missing, build, run nginx under the shim, show /metrics
#   make install    PREFIX=/usr/local: lib/promshim/libpromshim.so, bin/promshim
#   make bench-hooks  added ns per hooked call, shim against no shim
#   make fuzz         every libFuzzer harness FUZZ_SECONDS (60) on a copy of its corpus
#   make fuzz-regress every file of tests/fuzz/corpus/X through fuzz_X once
#   make sanitize     ASan+UBSan (unit tests, bats suites), then TSan; also
#                     sanitize-asan, sanitize-tsan (build/asan, build/tsan)
#   make clean

PREFIX ?= /usr/local
VERSION := 0.1.0
CC ?= cc
B := build

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
SHIM_CFLAGS := $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden -fno-strict-aliasing \
	-D_GNU_SOURCE -DPROMSHIM_VERSION=\"$(VERSION)\" -I. $(EXTRA_CFLAGS)
LDFLAGS_SO := -shared -Wl,--version-script=shim/exports.map -Wl,-z,relro \
	-Wl,--no-undefined $(EXTRA_LDFLAGS)

# The engine (no interposed symbols): also what unit tests link against.
CORE_SRC := $(wildcard shim/*.c shim/proto/*.c shim/probes/*.c exporter/*.c)
HOOK_SRC := $(wildcard hooks/*.c)
CORE_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(CORE_SRC))
HOOK_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(HOOK_SRC))
HDRS := $(wildcard shim/*.h shim/proto/*.h shim/probes/*.h exporter/*.h hooks/*.h)

# Unit tests: tests/unit/test_X.c, each linked with the core archive.
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRC))
# Example plugins (shared objects loaded through PROMSHIM_PLUGINS).
PLUGIN_SRC := $(wildcard tests/plugins/*.c)
PLUGIN_BIN := $(patsubst tests/plugins/%.c,$(B)/plugins/%.so,$(PLUGIN_SRC))
# Kafka test programs: librdkafka clients against its mock cluster.
KAFKA_SRC := $(wildcard tests/kafka/*.c)
KAFKA_BIN := $(patsubst tests/kafka/%.c,$(B)/kafka/%,$(KAFKA_SRC))
# Microbenchmarks of the engine (linked like the unit tests).
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(patsubst tests/bench/%.c,$(B)/bench/%,$(BENCH_SRC))
# Test programs run under the shim by the bats suites.
PROG_SRC := $(wildcard tests/progs/*.c)
PROG_BIN := $(patsubst tests/progs/%.c,$(B)/progs/%,$(PROG_SRC))

.PHONY: all lib test unit demo install uninstall clean deps bench-hooks bench fuzz sanitize check-exports \
	fuzz-regress sanitize-asan sanitize-tsan

all: lib $(UNIT_BIN) $(PROG_BIN) $(BENCH_BIN) $(PLUGIN_BIN) $(KAFKA_BIN)
lib: $(B)/libpromshim.so $(B)/promshim $(B)/promshim-view

$(B)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -c $< -o $@

$(B)/libpromshim.so: $(CORE_OBJ) $(HOOK_OBJ) shim/exports.map
	$(CC) $(SHIM_CFLAGS) $(LDFLAGS_SO) -o $@ $(CORE_OBJ) $(HOOK_OBJ)

$(B)/libshimcore.a: $(CORE_OBJ)
	@mkdir -p $(B)
	rm -f $@ && ar rcs $@ $(CORE_OBJ)

$(B)/promshim-view: scripts/promshim-view
	@mkdir -p $(B)
	cp $< $@ && chmod 0755 $@

$(B)/promshim: scripts/promshim
	@mkdir -p $(B)
	sed 's/@VERSION@/$(VERSION)/' $< > $@ && chmod +x $@

$(B)/unit/%: tests/unit/%.c $(B)/libshimcore.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -I. -Itests/unit $(EXTRA_CFLAGS) $< $(B)/libshimcore.a -o $@ -lpthread $(EXTRA_LDFLAGS)

$(B)/bench/%: tests/bench/%.c $(B)/libshimcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -I. $(EXTRA_CFLAGS) $< $(B)/libshimcore.a -o $@ -lpthread $(EXTRA_LDFLAGS)

$(B)/kafka/%: tests/kafka/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE $(EXTRA_CFLAGS) $< -o $@ -lrdkafka -lpthread $(EXTRA_LDFLAGS)

$(B)/plugins/%.so: tests/plugins/%.c shim/promshim.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared -D_GNU_SOURCE -I. $(EXTRA_CFLAGS) $< -o $@ $(EXTRA_LDFLAGS)

$(B)/progs/%: tests/progs/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -I. $(EXTRA_CFLAGS) $< -o $@ -lpthread $(EXTRA_LDFLAGS)

deps:
	scripts/deps.sh

# The whole suite: unit tests and every bats file, TAP output.
test: deps
	$(MAKE) all
	bats --tap tests/

unit: all
	bats --tap tests/unit.bats

demo: deps
	$(MAKE) all
	scripts/demo.sh

bench-hooks: all
	scripts/bench-hooks.sh

bench: all
	scripts/bench.sh

# Quality gates. Their builds live in build/fuzz, build/asan and build/tsan
# (the sanitizer builds are this Makefile's own rules with B= and
# EXTRA_CFLAGS/EXTRA_LDFLAGS), so they never touch the normal build.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh run

fuzz-regress:
	scripts/fuzz.sh regress

sanitize: deps
	scripts/sanitize.sh all

sanitize-asan: deps
	scripts/sanitize.sh asan

sanitize-tsan: deps
	scripts/sanitize.sh tsan

install: lib
	install -d $(DESTDIR)$(PREFIX)/lib/promshim $(DESTDIR)$(PREFIX)/bin
	install -m 0644 $(B)/libpromshim.so $(DESTDIR)$(PREFIX)/lib/promshim/libpromshim.so
	install -m 0755 $(B)/promshim $(DESTDIR)$(PREFIX)/bin/promshim
	install -m 0755 $(B)/promshim-view $(DESTDIR)$(PREFIX)/bin/promshim-view

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/promshim/libpromshim.so $(DESTDIR)$(PREFIX)/bin/promshim \
		$(DESTDIR)$(PREFIX)/bin/promshim-view
	-rmdir $(DESTDIR)$(PREFIX)/lib/promshim

clean:
	rm -rf $(B)
