# tendril: a plain GNU Makefile.
#
#   make                      build everything into build/bin/
#   make SAN=address,undefined    same, with sanitizers (objects go to build/san/)
#   sudo make test            unit tests, fuzz smoke, end-to-end tests (normal and sanitized)
#   sudo make demo            the seed/shoot demo in network namespaces
#   make fuzz                 run every libFuzzer target for FUZZ_SECONDS each
#   make golden               regenerate the unit tests' golden files (review the diff)
#   V=1                       show the commands

CC      ?= cc
SAN     ?=
V       ?= 0
ifeq ($(SAN),)
BUILD   ?= build
else
BUILD   ?= build/san
endif

PKGS    := libuv libmnl libnftnl openssl libcap libgcrypt
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -Wstrict-prototypes -Wmissing-prototypes -fno-strict-aliasing \
           -D_GNU_SOURCE -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -luv -lmnl -lnftnl -lssl -lcrypto -lcap -lgcrypt)
ifneq ($(SAN),)
CFLAGS  += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SAN)
endif

ifeq ($(V),0)
Q = @
say = @printf '  %-7s %s\n' $(1) $(2);
else
Q =
say =
endif

TUNNEL_SRC  := $(wildcard tunnel/*.c)
NETLINK_SRC := $(wildcard netlink/*.c)
TUNNEL_OBJ  := $(TUNNEL_SRC:%.c=$(BUILD)/obj/%.o)
NETLINK_OBJ := $(NETLINK_SRC:%.c=$(BUILD)/obj/%.o)
LIBS        := $(BUILD)/lib/libtunnel.a $(BUILD)/lib/libnetlink.a

BINS := $(BUILD)/bin/vpn-server $(BUILD)/bin/vpn-shoot $(BUILD)/bin/vpnctl

# The controller: shootctl links only its own modules, tunnel/ (for CIDR
# parsing), libyaml and OpenSSL. Its unit tests link controller objects
# except the command line's main().
CTL_SRC    := $(filter-out controller/shootctl.c,$(wildcard controller/*.c))
CTL_OBJ    := $(CTL_SRC:%.c=$(BUILD)/obj/%.o)
CTL_LDLIBS := -lyaml -lpthread $(shell pkg-config --libs openssl libuv 2>/dev/null || echo -lssl -lcrypto -luv)
BINS += $(BUILD)/bin/shootctl

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.DELETE_ON_ERROR:
.PHONY: all clean test unit e2e demo fuzz fuzz-smoke fuzz-bins deps bench golden
all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/lib/libtunnel.a: $(TUNNEL_OBJ)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(BUILD)/lib/libnetlink.a: $(NETLINK_OBJ)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/vpn-server: $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard vpn-server/*.c)) $(LIBS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/vpn-shoot: $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard vpn-shoot/*.c)) $(LIBS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/vpnctl: $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard vpnctl/*.c))
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^

# Unit tests link only the modules they test (and cmocka).
$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS) -lcmocka

$(BUILD)/bin/shootctl: $(BUILD)/obj/controller/shootctl.o $(CTL_OBJ) $(BUILD)/lib/libtunnel.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(CTL_LDLIBS)

CTL_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_spec.c \
             tests/unit/test_pki.c tests/unit/test_flowengine.c tests/unit/test_controller*.c))
$(CTL_TESTS): $(BUILD)/tests/%: tests/unit/%.c $(CTL_OBJ) $(BUILD)/lib/libtunnel.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $^ $(CTL_LDLIBS) -lcmocka

-include $(shell find $(BUILD)/obj $(BUILD)/tests -name '*.d' 2>/dev/null)

deps:
	@tools/install-deps.sh

unit: $(UNIT_BINS)
	@tools/run-unit.sh $(UNIT_BINS)

e2e: all
	@BIN=$(abspath $(BUILD)/bin) tests/e2e/run.sh

fuzz-smoke: fuzz-bins
	@tools/fuzz.sh smoke

fuzz: fuzz-bins
	@tools/fuzz.sh run

# The full suite: the normal build, then the same unit and end-to-end tests
# with AddressSanitizer and UndefinedBehaviorSanitizer (leaks fail the run).
test: deps
	@tools/test.sh

demo: deps all
	@BIN=$(abspath $(BUILD)/bin) tools/demo.sh

bench: deps all
	@BIN=$(abspath $(BUILD)/bin) bench/run.sh

# Rewrites the golden files of the unit tests from the current renderers;
# review the diff before committing it.
golden:
	@tools/regen-golden.sh

clean:
	rm -rf build

# libFuzzer targets: tests/fuzz/fuzz_<name>.c, each compiled with the
# tunnel sources it exercises (clang only).
FUZZ_CC    ?= clang
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_FLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=all $(shell pkg-config --cflags libuv openssl 2>/dev/null)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(TUNNEL_SRC) $(NETLINK_SRC)
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$@)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(TUNNEL_SRC) $(NETLINK_SRC) $(LDLIBS)

# The spec parser lives in controller/ and needs libyaml.
build/fuzz/fuzz_spec: tests/fuzz/fuzz_spec.c controller/spec.c tunnel/cidr.c
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$@)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ -lyaml

# The check's response parser lives in controller/.
build/fuzz/fuzz_response: tests/fuzz/fuzz_response.c controller/check.c $(TUNNEL_SRC) $(NETLINK_SRC)
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$@)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS)

fuzz-bins: $(FUZZ_BINS)
