# mk/deb.mk - Debian packages.
#
#   make deb        build/deb/*.deb with dpkg-buildpackage -b -uc -us, run on
#                   a copy of the tree (dpkg-buildpackage writes its results
#                   next to the source directory), then lintian
#   make deb-test   make deb, then tests/deb/check.sh: the packages' contents,
#                   conffiles and maintainer scripts, installed into a
#                   throwaway root (dpkg --root), and the installed agent run
#                   on a capture
#
# debian/ holds the packaging: icsentry-common (user, directories),
# icsentry-agent, icsentry-collector, icsentry-tools, icsentry-web.

DEB_DIR      = $(BUILD)/deb
DEB_VERSION := $(shell sed -n '1s/.*(\(.*\)).*/\1/p' debian/changelog)
DEB_SRC      = $(DEB_DIR)/icsentry-$(DEB_VERSION)
DEB_BUILD_PKGS := debhelper dpkg-dev lintian fakeroot

.PHONY: deb deb-test deb-need-deps

deb-need-deps:
	@missing=""; for p in $(DEB_BUILD_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || \
		    missing="$$missing $$p"; done; \
	[ -z "$$missing" ] || $(MAKE) --no-print-directory deps

deb: deb-need-deps
	@rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	@git ls-files -co --exclude-standard -z | grep -zv '^build/' | \
	    tar --null -T - -cf - | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -b -uc -us
	lintian --fail-on error,warning --info \
	    $(DEB_DIR)/icsentry_$(DEB_VERSION)_*.changes
	@ls -1 $(DEB_DIR)/*.deb

deb-test: deb
	@$(MAKE) --no-print-directory $(BUILD)/scenarios.stamp
	@DEB_DIR=$(DEB_DIR) SHARED=$(SHARED) BUILD=$(BUILD) sh tests/deb/check.sh
