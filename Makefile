# ctix — one GNU Makefile. `make test` and `make demo` are the two entry points of the README.
# Objects never sit beside the sources: build/rel for the plain build, build/san for sanitizers.

CC      ?= cc
SAN     ?=
WARN     = -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -Wvla
OPT     ?= -O2 -g
PKGS     = libmicrohttpd jansson sqlite3 libcrypto libpcre2-8 libcurl zlib libzstd
TESTPKGS = cmocka
BUILD   ?= build/$(if $(SAN),san,rel)

# Debian package for each pkg-config name, for `make deps`.
DEBS     = pkg-config gcc make libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev \
           libpcre2-dev libunistring-dev libcmocka-dev libcurl4-openssl-dev zlib1g-dev libzstd-dev \
           zstd curl openssl

SANFLAGS = $(if $(SAN),-fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all)
CPPFLAGS = -Isrc -D_GNU_SOURCE -MMD -MP
CFLAGS   = $(WARN) $(OPT) $(SANFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libunistring (NFC normalisation for LIKE and MATCHES) ships no pkg-config file.
LDLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lunistring -lpthread -lm
TLDLIBS  = $(shell pkg-config --libs $(TESTPKGS) 2>/dev/null) $(LDLIBS)
LDFLAGS  = $(SANFLAGS)

ALLSRC   = $(wildcard src/*/*.c)
TESTSRC  = $(filter %_test.c,$(ALLSRC))
FUZZSRC  = $(filter %_fuzz.c,$(ALLSRC))
MAINSRC  = src/cli/main.c
LIBSRC   = $(filter-out $(TESTSRC) $(FUZZSRC) $(MAINSRC),$(ALLSRC))
LIBOBJ   = $(LIBSRC:%.c=$(BUILD)/%.o)
ITESTSRC = $(wildcard tests/integration/*_test.c)
ITESTLIB = $(filter-out $(ITESTSRC),$(wildcard tests/integration/*.c))

CTIX     = $(BUILD)/ctix
UNITBIN  = $(patsubst src/%_test.c,$(BUILD)/test/unit/%_test,$(TESTSRC))
ITESTBIN = $(patsubst tests/integration/%_test.c,$(BUILD)/test/integration/%_test,$(ITESTSRC))
FUZZCHK  = $(patsubst src/%_fuzz.c,$(BUILD)/test/fuzzcheck/%_fuzz,$(FUZZSRC))
FUZZBIN  = $(patsubst src/%_fuzz.c,build/fuzz/%_fuzz,$(FUZZSRC))
BENCHSRC = $(wildcard bench/*.c)
BENCHBIN = $(patsubst bench/%.c,build/bench/%,$(BENCHSRC))

.PHONY: all deps test demo fuzz bench format check-format headers clean
.SECONDARY: # keep the objects of test and fuzz binaries between runs

all: $(CTIX)

# Installs what is missing, with apt-get, as root or through sudo. A no-op when all is there.
deps:
	@missing=""; for p in $(DEBS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	    $$sudo apt-get update -q >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	fi

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libctix.a: $(LIBOBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(CTIX): $(BUILD)/src/cli/main.o $(BUILD)/libctix.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A unit test links only its module and the modules below it, so that each module's tests build
# and run while the modules above it are still being written.
MODDEPS_base   = base
MODDEPS_stix   = stix base
MODDEPS_store  = store base
MODDEPS_auth   = auth store base
MODDEPS_pattern = pattern stix base
MODDEPS_policy = policy stix base
MODDEPS_prov   = prov stix base
MODDEPS_sync   = sync policy prov store stix base
MODDEPS_taxii  = taxii sync policy prov auth store pattern stix base
MODDEPS_http   = http taxii sync policy prov auth store pattern stix base
# scan: readers, extractor, index, loaders and sightings; `ctix scan` (cli) stores sightings
# through the TAXII ingest path.
MODDEPS_scan   = scan store pattern stix base
modsrc  = $(foreach m,$(or $(MODDEPS_$(1)),$(patsubst src/%/,%,$(wildcard src/*/))),\
            $(filter src/$(m)/%,$(LIBSRC)))
modobjs = $(foreach m,$(or $(MODDEPS_$(1)),$(patsubst src/%/,%,$(wildcard src/*/))),\
            $(filter $(BUILD)/src/$(m)/%,$(LIBOBJ)))

.SECONDEXPANSION:
$(BUILD)/test/unit/%_test: $(BUILD)/src/%_test.o $$(call modobjs,$$(firstword $$(subst /, ,$$*)))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TLDLIBS)

$(BUILD)/test/integration/%_test: $(BUILD)/tests/integration/%_test.o \
		$(ITESTLIB:%.c=$(BUILD)/%.o) $(BUILD)/libctix.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TLDLIBS)

# The fuzz targets built with gcc and a plain main() that replays fuzz/corpus and fuzz/regress.
$(BUILD)/test/fuzzcheck/%_fuzz: $(BUILD)/src/%_fuzz.o $(BUILD)/fuzz/driver.o \
		$$(call modobjs,$$(firstword $$(subst /, ,$$*)))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

test: deps
	@$(MAKE) --no-print-directory $(CTIX) $(UNITBIN) $(ITESTBIN) $(FUZZCHK)
	@CTIX_BIN=$(CTIX) BUILD=$(BUILD) tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory $(CTIX)
	@CTIX_BIN=$(CTIX) tests/demo.sh

# libFuzzer builds: clang, coverage-guided, with ASan and UBSan. Run one with
#   build/fuzz/stix/validate_fuzz fuzz/corpus/stix_validate -max_total_time=600
FUZZCFLAGS = -std=c11 -g -O1 -Isrc -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
fuzz: $(FUZZBIN)
build/fuzz/%_fuzz: src/%_fuzz.c $$(call modsrc,$$(firstword $$(subst /, ,$$*)))
	@mkdir -p $(dir $@)
	clang $(FUZZCFLAGS) -o $@ $^ $(LDLIBS)

bench: $(CTIX) $(BENCHBIN)
build/bench/%: bench/%.c $(BUILD)/libctix.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ $(TLDLIBS)

format:
	clang-format -i $(ALLSRC) $(wildcard src/*/*.h) $(wildcard tests/integration/*.[ch]) \
	    $(wildcard fuzz/*.c) $(BENCHSRC)

check-format:
	clang-format --dry-run --Werror $(ALLSRC) $(wildcard src/*/*.h)

# Each public header compiles on its own.
headers:
	@for h in $(wildcard src/*/*.h); do \
	    echo "#include \"$${h#src/}\"" | $(CC) $(CPPFLAGS) $(CFLAGS) -x c -fsyntax-only - || exit 1; \
	done; echo "headers ok"

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
