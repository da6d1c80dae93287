# mk/cross.mk - cross build for a Debian architecture other than the host's,
# with Debian's cross toolchain and multiarch -dev packages (no sysroot).
#
#   make cross-deps ARCH=arm64   install the cross compiler, qemu-user and the
#                                arm64 libraries (root; one apt-get update)
#   make cross ARCH=arm64        build/arm64/icsentry-agent (the gateway binary;
#                                the central tools link libpq, whose -dev
#                                package is not Multi-Arch: same)
#   make cross-test ARCH=arm64   run the arm64 agent under qemu-user on the
#                                shared captures, compare with the native build
#
# The cross build is the ordinary build run again with BUILD=build/$(ARCH),
# the cross compiler and the library flags of the target architecture: the
# same sources, CFLAGS and warnings (-Werror included).
#
# Library flags come from pkg-config restricted to the target's .pc files,
# except for two libraries Debian does not package for multiarch -dev use:
#   - Paho MQTT has no .pc: -lpaho-mqtt3as from the target's lib dir.
#   - libndpi-dev is not "Multi-Arch: same", so libndpi-dev:arm64 cannot be
#     installed beside the native libndpi-dev.  Its headers are the same
#     files on every architecture (checked for 4.2-2: diff -r is empty), so
#     the native /usr/include/ndpi is used and the target's runtime library
#     (libndpi4.2:arm64) is linked by its path; cross-check-ndpi makes sure
#     both come from the same Debian version.

ARCH ?= arm64

ifeq ($(ARCH),arm64)
CROSS_TRIPLET := aarch64-linux-gnu
CROSS_QEMU    := qemu-aarch64
CROSS_MACHINE := AArch64
else
CROSS_TRIPLET :=
endif

CROSS_BUILD   := $(BUILD)/$(ARCH)
CROSS_CC      := $(CROSS_TRIPLET)-gcc
CROSS_LIBDIR  := /usr/lib/$(CROSS_TRIPLET)
CROSS_PKGCONF := PKG_CONFIG_LIBDIR=$(CROSS_LIBDIR)/pkgconfig:/usr/share/pkgconfig pkg-config
CROSS_PKGS    := libpcap inih libcjson sqlite3 libcrypto libmicrohttpd
NDPI_RUNTIME  := libndpi4.2
CROSS_DEB_PKGS = gcc-$(CROSS_TRIPLET) libc6-dev-$(ARCH)-cross qemu-user \
                 libpcap-dev:$(ARCH) libpaho-mqtt-dev:$(ARCH) \
                 libsqlite3-dev:$(ARCH) libinih-dev:$(ARCH) \
                 libcjson-dev:$(ARCH) libssl-dev:$(ARCH) \
                 libmicrohttpd-dev:$(ARCH) \
                 $(NDPI_RUNTIME):$(ARCH)

# Recursive (=): pkg-config for the target runs only when a cross target does.
CROSS_NDPI_LIB   = $(firstword $(sort $(wildcard $(CROSS_LIBDIR)/libndpi.so.[0-9]*)))
CROSS_PKG_CFLAGS = $(patsubst -I%,-isystem %,$(shell $(CROSS_PKGCONF) --cflags $(CROSS_PKGS))) \
                   -isystem /usr/include/ndpi
CROSS_PKG_LIBS   = $(shell $(CROSS_PKGCONF) --libs $(CROSS_PKGS)) $(CROSS_NDPI_LIB) -lm
CROSS_MQTT_LIBS  = -L$(CROSS_LIBDIR) -lpaho-mqtt3as

.PHONY: cross cross-build cross-deps cross-need-deps cross-check-arch cross-check-ndpi cross-test

cross-check-arch:
	@if [ -z "$(CROSS_TRIPLET)" ]; then \
		echo "cross: ARCH=$(ARCH) is not supported (only ARCH=arm64)" >&2; exit 2; fi

# Install only what is missing: the foreign architecture, then one apt-get
# update and one apt-get install.  (Installing libssl-dev:arm64 also moves
# the native libssl-dev to the same version: Multi-Arch: same requires it.)
cross-deps: cross-check-arch
	@SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	update=0; \
	if ! dpkg --print-foreign-architectures | grep -qx '$(ARCH)'; then \
		echo "cross-deps: dpkg --add-architecture $(ARCH)"; \
		$$SUDO dpkg --add-architecture $(ARCH) || exit 1; update=1; fi; \
	missing=""; for p in $(CROSS_DEB_PKGS) $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || \
		    missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "cross-deps: all $(ARCH) packages present"; exit 0; fi; \
	echo "cross-deps: installing$$missing"; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing

cross-need-deps: cross-check-arch
	@if ! command -v $(CROSS_CC) >/dev/null 2>&1 || \
	    ! $(CROSS_PKGCONF) --exists $(CROSS_PKGS) || \
	    [ ! -f $(CROSS_LIBDIR)/libpaho-mqtt3as.so ] || \
	    ! ls $(CROSS_LIBDIR)/libndpi.so.[0-9]* >/dev/null 2>&1 || \
	    [ ! -f /usr/include/ndpi/ndpi_api.h ]; then \
		$(MAKE) --no-print-directory cross-deps ARCH=$(ARCH); fi

# The native headers are only right for the target's library when both are
# the same Debian version of nDPI.
cross-check-ndpi: cross-need-deps
	@n=$$(dpkg-query -W -f='$${Version}' libndpi-dev 2>/dev/null); \
	t=$$(dpkg-query -W -f='$${Version}' $(NDPI_RUNTIME):$(ARCH) 2>/dev/null); \
	if [ "$$n" != "$$t" ]; then \
		echo "cross: libndpi-dev ($$n) and $(NDPI_RUNTIME):$(ARCH) ($$t) differ:" \
		     "the native nDPI headers do not fit the $(ARCH) library" >&2; exit 1; fi

# The target's library flags are computed by a second make started after
# cross-check-ndpi has installed what was missing: this make has already
# listed $(CROSS_LIBDIR) (and GNU make caches directory listings for
# $(wildcard)), so on a fresh machine it would still see no libndpi.so.N and
# link without it ("undefined reference to ndpi_protocol2name").  The checks
# above therefore test files with the shell, never with $(wildcard).
cross: cross-check-ndpi
	@$(MAKE) --no-print-directory cross-build ARCH=$(ARCH)

cross-build: cross-check-arch
	@if [ -z "$(CROSS_NDPI_LIB)" ]; then \
		echo "cross: no $(CROSS_LIBDIR)/libndpi.so.N: run make cross-deps ARCH=$(ARCH)" >&2; \
		exit 1; fi
	@$(MAKE) --no-print-directory BUILD=$(CROSS_BUILD) CC=$(CROSS_CC) \
	    PKG_CFLAGS="$(CROSS_PKG_CFLAGS)" PKG_LIBS="$(CROSS_PKG_LIBS)" \
	    MQTT_LIBS="$(CROSS_MQTT_LIBS)" CHECK_LIBS= $(CROSS_BUILD)/icsentry-agent
	@$(CROSS_TRIPLET)-readelf -h $(CROSS_BUILD)/icsentry-agent | grep -q 'Machine: *$(CROSS_MACHINE)' || \
	    { echo "cross: $(CROSS_BUILD)/icsentry-agent is not an $(ARCH) binary" >&2; exit 1; }
	@echo "cross: $(ARCH) binaries in $(CROSS_BUILD)/"

# Not part of `make test`: it needs the arm64 packages and qemu-user.
cross-test: cross
	@$(MAKE) --no-print-directory all $(BUILD)/scenarios.stamp
	@BUILD=$(BUILD) CROSS_BUILD=$(CROSS_BUILD) SHARED=$(SHARED) \
	    QEMU=$(CROSS_QEMU) \
	    sh tests/cross/compare.sh
