# mk/install.mk - make install / make uninstall.
#
#   make install   [PREFIX=/usr/local] [DESTDIR=]
#   make uninstall [PREFIX=/usr/local] [DESTDIR=]
#
#   $(DESTDIR)$(BINDIR)          icsentry-agent, icsentry-collector, icsentry-log,
#                                icsentry-intel, icsentry-web
#   $(DESTDIR)$(MAN1DIR)         their man pages
#   $(DESTDIR)$(SYSCONFDIR)      agent.conf, collector.conf (examples)
#   $(DESTDIR)$(BROKERDIR)       mosquitto.conf, acl, gen-certs.sh,
#                                mosquitto-demo.conf
#   $(DESTDIR)$(SYSTEMD_UNITDIR) icsentry-agent.service, icsentry-collector.service
#                                (ExecStart pointed at $(BINDIR), -c at
#                                $(SYSCONFDIR))
#
# Without DESTDIR an existing config is never overwritten (it is the
# operator's); with DESTDIR (a staging tree for a package) it is.
# uninstall removes everything install put there except the configs.
# Nothing here creates the icsentry user or reloads systemd: see
# docs/deploy.md.

BINDIR          ?= $(PREFIX)/bin
MANDIR          ?= $(PREFIX)/share/man
MAN1DIR         ?= $(MANDIR)/man1
DATADIR         ?= $(PREFIX)/share/icsentry
BROKERDIR       ?= $(DATADIR)/broker
SYSCONFDIR      ?= /etc/icsentry
SYSTEMD_UNITDIR ?= /lib/systemd/system
INSTALL         ?= install

INST_PROGS   := icsentry-agent icsentry-collector icsentry-log icsentry-intel \
                icsentry-web
INST_MAN1    := $(INST_PROGS:%=docs/man/%.1)
INST_CONFIGS := config/agent.conf config/collector.conf
INST_BROKER  := broker/mosquitto.conf broker/acl broker/mosquitto-demo.conf
INST_BROKERX := broker/gen-certs.sh
INST_UNITS   := broker/icsentry-agent.service broker/icsentry-collector.service

.PHONY: install uninstall

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(BROKERDIR) \
	    $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(SYSTEMD_UNITDIR)
	$(INSTALL) -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 $(INST_MAN1) $(DESTDIR)$(MAN1DIR)/
	$(INSTALL) -m 0644 $(INST_BROKER) $(DESTDIR)$(BROKERDIR)/
	$(INSTALL) -m 0755 $(INST_BROKERX) $(DESTDIR)$(BROKERDIR)/
	@for u in $(INST_UNITS); do \
		t='$(DESTDIR)$(SYSTEMD_UNITDIR)'/$${u##*/}; \
		echo "sed ExecStart $$u > $$t"; \
		sed -e '/^ExecStart=/s|/usr/local/bin/|$(BINDIR)/|' \
		    -e '/^ExecStart=/s|/etc/icsentry/|$(SYSCONFDIR)/|' "$$u" >"$$t.tmp" && \
		chmod 0644 "$$t.tmp" && mv -f "$$t.tmp" "$$t" || exit 1; \
	done
	@for c in $(INST_CONFIGS); do \
		t='$(DESTDIR)$(SYSCONFDIR)'/$${c##*/}; \
		if [ -z '$(DESTDIR)' ] && [ -e "$$t" ]; then \
			echo "install: keeping the existing $$t (the new example is $$c)"; \
		else \
			echo "$(INSTALL) -m 0644 $$c $$t"; \
			$(INSTALL) -m 0644 "$$c" "$$t" || exit 1; \
		fi; \
	done

uninstall:
	rm -f $(INST_PROGS:%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(INST_MAN1:docs/man/%=$(DESTDIR)$(MAN1DIR)/%)
	rm -f $(addprefix $(DESTDIR)$(BROKERDIR)/,$(notdir $(INST_BROKER) $(INST_BROKERX)))
	rm -f $(addprefix $(DESTDIR)$(SYSTEMD_UNITDIR)/,$(notdir $(INST_UNITS)))
	@rmdir $(DESTDIR)$(BROKERDIR) $(DESTDIR)$(DATADIR) 2>/dev/null || true
	@echo "uninstall: the configs in $(DESTDIR)$(SYSCONFDIR) are kept"
