# Two commands do everything on a fresh Debian 12 machine, as root:
#   make run    set up, then run the simulated district and the service (foreground)
#   make test   set up, then lint and run the whole test suite
SHELL := /bin/bash
PYTHON_BASE ?= /usr/bin/python3
VENV ?= .venv
PY := $(VENV)/bin/python
NMS := $(VENV)/bin/nms
STAMPS := .stamps
RUN_DIR ?= run/lab

# Debian packages: real agents and tools used by the lab, the tests and the benchmarks.
APT_PACKAGES := python3-venv python3-dev gcc snmp snmpd prometheus prometheus-snmp-exporter prometheus-alertmanager \
	softflowd nfdump tcpdump mmdebstrap espeak-ng sox libsox-fmt-all faketime tzdata \
	chromium chromium-driver fonts-nanum poppler-utils procps iproute2 ca-certificates systemd nginx-light

.PHONY: setup apt venv asterisk run test lint bench clean install

setup: apt venv asterisk

# Asterisk 22 from Debian sid, in its own root filesystem outside the repo (built once, ~20 s).
asterisk: venv
	@$(PY) -m lab.asterisk build-rootfs

# Debian would start the daemons it installs (snmpd, prometheus, ...); the script keeps them from
# starting and disables the units of packages it installed itself, naming each. It never stops or
# kills a daemon that was there before (a real snmpd on the host stays as it is).
apt:
	@scripts/apt-install.sh $(APT_PACKAGES)

$(STAMPS)/venv: setup.cfg pyproject.toml
	@mkdir -p $(STAMPS)
	@test -x $(PY) || $(PYTHON_BASE) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[lab,test]'
	@touch $@

venv: $(STAMPS)/venv

run: setup
	$(PY) -m lab run --run-dir $(RUN_DIR)

lint: venv
	$(VENV)/bin/ruff check nms collectors ivr dashboards tests bench lab

test: setup
	$(VENV)/bin/ruff check nms collectors ivr dashboards tests bench lab
	$(PY) -m dashboards.build --check
	$(VENV)/bin/pytest -q -p no:cacheprovider tests

bench: setup
	$(PY) bench/snmp_cycle.py
	$(PY) bench/snmp_scale.py
	$(PY) bench/flows.py
	$(PY) bench/traps.py
	$(PY) bench/ivr_load.py
	$(PY) bench/ivr_today_scrape.py
	$(PY) bench/admin_load.py
	$(PY) bench/report.py

clean:
	rm -rf $(VENV) $(STAMPS) run *.egg-info

# -- installing on a server (docs/deploying.md) ----------------------------------------------------
# make install [DESTDIR=/staging/root]: the code in a virtualenv at $(PREFIX), the systemd units,
# the system user (sysusers.d), the directories (tmpfiles.d), the configuration in $(SYSCONFDIR)
# (only files that are not there yet: an operator's edits are never overwritten), state in
# /var/lib/nms. With DESTDIR it only stages files (for a package); without it, it also creates
# the user and directories and reloads systemd.
PREFIX ?= /opt/nms
SYSCONFDIR ?= /etc/nms
UNITDIR ?= /lib/systemd/system
DESTDIR ?=
CONFIG_FILES := nms.yaml inventory.yaml snmp.yaml ivr.yaml

install:
	@test -n "$(DESTDIR)" || test "$$(id -u)" = 0 || { echo "make install: run as root, or give DESTDIR"; exit 2; }
	$(PYTHON_BASE) -m venv --clear $(DESTDIR)$(PREFIX)
	$(DESTDIR)$(PREFIX)/bin/python -m pip install -q --no-warn-script-location --no-compile .
	@# Byte-code names the installed paths (tracebacks show /opt/nms/..., not the staging root).
	$(DESTDIR)$(PREFIX)/bin/python -m compileall -q $(if $(DESTDIR),-s $(DESTDIR) -p /) $(DESTDIR)$(PREFIX)/lib
	@# The venv's scripts name the interpreter by the staging path: point them at $(PREFIX).
	@if [ -n "$(DESTDIR)" ]; then \
	  for f in $$(grep -lI '$(DESTDIR)$(PREFIX)' $(DESTDIR)$(PREFIX)/bin/* || true); do \
	    sed -i 's|$(DESTDIR)$(PREFIX)|$(PREFIX)|g' "$$f"; done; fi
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)/usr/lib/sysusers.d $(DESTDIR)/usr/lib/tmpfiles.d \
	  $(DESTDIR)$(PREFIX)/share/doc/nms $(DESTDIR)$(PREFIX)/share/nms/prometheus $(DESTDIR)$(PREFIX)/share/nms/dashboards
	install -m 0644 configs/systemd/*.service $(DESTDIR)$(UNITDIR)/
	install -m 0644 configs/systemd/nms.sysusers $(DESTDIR)/usr/lib/sysusers.d/nms.conf
	install -m 0644 configs/systemd/nms.tmpfiles $(DESTDIR)/usr/lib/tmpfiles.d/nms.conf
	install -m 0644 docs/deploying.md CHANGELOG.md README.md $(DESTDIR)$(PREFIX)/share/doc/nms/
	cp -r configs/prometheus/. $(DESTDIR)$(PREFIX)/share/nms/prometheus/
	cp -r dashboards/json dashboards/provisioning $(DESTDIR)$(PREFIX)/share/nms/dashboards/
	install -d -m 0750 $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)/var/lib/nms
	install -d -m 0700 $(DESTDIR)/etc/credstore/nms
	@for f in $(CONFIG_FILES); do \
	  if [ -e $(DESTDIR)$(SYSCONFDIR)/$$f ]; then echo "kept $(SYSCONFDIR)/$$f (exists)"; \
	  else install -m 0640 configs/$$f $(DESTDIR)$(SYSCONFDIR)/$$f; fi; done
	@if [ -z "$(DESTDIR)" ]; then \
	  systemd-sysusers /usr/lib/sysusers.d/nms.conf && systemd-tmpfiles --create /usr/lib/tmpfiles.d/nms.conf && \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	  echo "installed: $(PREFIX), $(SYSCONFDIR), units in $(UNITDIR). Next: docs/deploying.md" \
	       "(secrets in /etc/credstore/nms, then systemctl enable --now nms)"; fi
