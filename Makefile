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
	chromium chromium-driver fonts-nanum poppler-utils procps iproute2 ca-certificates

.PHONY: setup apt venv asterisk run test lint bench clean

setup: apt venv asterisk

# Asterisk 22 from Debian sid, in its own root filesystem outside the repo (built once, ~20 s).
asterisk: venv
	@$(PY) -m lab.asterisk build-rootfs

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@# Debian's packages start their own daemons where systemd runs; the lab runs its own copies.
	@-pkill -x snmpd 2>/dev/null; true

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
	$(PY) bench/flows.py
	$(PY) bench/ivr_load.py
	$(PY) bench/ivr_today_scrape.py
	$(PY) bench/admin_load.py

clean:
	rm -rf $(VENV) $(STAMPS) run *.egg-info
