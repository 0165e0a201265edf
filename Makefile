# pyosquery.fleet: every entry point for developers and CI. Run as root on Linux (Debian):
# the targets install what they need (Debian packages through apt, Python tools into .venv).
#
#   make demo               a lab fleet, the agent per group, a pack rolled out in gated stages, the reports
#   make test               every test suite, cheap to expensive, stopping at the first failure
#   make venv               .venv: ansible-core, ansible-lint, molecule, pytest + the agent (editable)
#   make lab-up N=10        a lab fleet of N hosts for your own use (inventory printed); make lab-down
#   make test-agent | test-agent-oldest | test-faults | test-unit | lint | sanity | test-lab | molecule    one suite
#   make test-load          the timing-sensitive tests beside two busy loops (not part of make test)
#   make test-busy [RUNS=2] the whole make test, RUNS times in a row, beside two busy loops
#   .venv/bin/pytest tests/unit    the plugin unit tests without ansible-test (make test-unit runs them with it)
#   make bench              side-by-side benchmarks, figures written into benchmarks/README.md
#   make mutate [MODULE=stats]  mutation testing, module by module (tests/mutation; not part of make test)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.NOTPARALLEL:
.DELETE_ON_ERROR:

VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.done
BUILD := .build
# ansible-test needs the collection under ansible_collections/<namespace>/<name>: a copy
COPY  := $(BUILD)/ansible_collections/pyosquery/fleet
# Ansible and molecule resolve pyosquery.fleet to this checkout through a link here
COLLECTIONS := $(BUILD)/collections
LAB   := tests/lab/labhosts.sh

# `make lab-up`: N hosts, lab set QH_ID=LAB_ID (10.77.LAB_ID.x), state in LAB_STATE, LAB_INIT=systemd for systemd hosts
N         ?= 3
LAB_ID    ?= 0
LAB_STATE ?= /tmp/pyosquery-lab
LAB_INIT  ?= bash

# Debian packages the targets need: the lab's sshd, ip, systemd-nspawn; rsync and shellcheck for sanity
APT_PACKAGES := openssh-server iproute2 systemd-container rsync shellcheck iptables

# pip's configuration on some machines names extra local indexes that may not exist: quiet that
PIP_NOISE := is ignored: it is neither a file nor a directory

export ANSIBLE_CONFIG := $(CURDIR)/tests/lab/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)
ifdef CI
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
endif

.PHONY: bench mutate help venv deps test test-agent test-agent-oldest test-faults test-load test-busy test-unit sanity sanity-copy lint test-lab molecule demo lab-up lab-down lab-status clean

help:
	@sed -n '/^$$/q; s/^# \{0,1\}//p' Makefile

# ---------------------------------------------------------------- set-up

venv: $(STAMP)

# Newest Python 3.12+ found (PATH, then ~/.pyenv/versions), else python3 with a warning;
# PYTHON=/path/to/python3 overrides. Rebuilt when the requirements or the agent's pyproject change.
$(STAMP): requirements-dev.txt files/agent/pyproject.toml tests/tools/pick-python.sh
	@py="$${PYTHON:-$$(tests/tools/pick-python.sh)}"; \
	  echo "venv: $$py ($$("$$py" -V 2>&1))"; \
	  rm -rf $(VENV); "$$py" -m venv $(VENV)
	$(BIN)/python -m pip install -q --progress-bar off -r requirements-dev.txt -e 'files/agent[extensions]' \
	  2>&1 | { grep -v '$(PIP_NOISE)' || true; }
	@$(BIN)/ansible --version | sed -n 1p
	@touch $@

deps:
	@tests/tools/apt-ensure.sh $(APT_PACKAGES)

$(COLLECTIONS)/ansible_collections/pyosquery/fleet:
	@mkdir -p $(@D)
	@ln -sfn $(CURDIR) $@

# ---------------------------------------------------------------- tests

# Suites from cheap to expensive; the first failure stops the run. The closing line counts suites.
TEST_SUITES := test-agent test-agent-oldest test-faults test-unit lint sanity test-lab molecule

test: venv deps
	@passed=0; for suite in $(TEST_SUITES); do \
	  start=$$(date +%s); \
	  echo "=== $$suite"; \
	  if $(MAKE) --no-print-directory $$suite; then \
	    passed=$$((passed + 1)); echo "=== $$suite: ok ($$(( $$(date +%s) - start )) s)"; \
	  else \
	    echo "=== $$suite: FAILED ($$(( $$(date +%s) - start )) s)"; \
	    echo "suites: $$passed passed, 1 failed"; exit 1; \
	  fi; \
	done; \
	echo "suites: $$passed passed, 0 failed"

test-agent: venv
	$(BIN)/pytest -q tests/agent --ignore tests/agent/faults

# Faults and hostile input against the real daemon (issue 11): full disks on a small tmpfs, a
# read-only or corrupt store, FIFOs, /dev/zero, stale pidfiles, zombies, connection floods
test-faults: venv
	$(BIN)/pytest -q tests/agent/faults

# Not part of `make test`: the timing-sensitive files with two busy loops beside them (nice 0, as
# a noisy CI neighbour), to prove they depend on what the agent does, not on how busy the machine is
LOAD_TESTS ?= tests/agent/test_watchdog.py tests/agent/test_watchdog_parts.py tests/agent/test_scheduler.py \
  tests/agent/test_daemon_crash.py tests/agent/test_profile.py tests/agent/test_tables_processes.py tests/agent/faults
test-load: venv
	@busy=(); for _ in 1 2; do (while :; do :; done) & busy+=($$!); done; \
	  trap 'kill $${busy[*]}' EXIT; \
	  echo "test-load: busy loops $${busy[*]} beside the tests (load average $$(cut -d' ' -f1 /proc/loadavg))"; \
	  $(BIN)/pytest -q $(LOAD_TESTS)

# Not part of `make test` either: the whole `make test`, RUNS times in a row, beside two busy loops
RUNS ?= 2
test-busy: venv deps
	@busy=(); for _ in 1 2; do (while :; do :; done) & busy+=($$!); done; \
	  trap 'kill $${busy[*]}' EXIT; \
	  for run in $$(seq $(RUNS)); do \
	    start=$$(date +%s); \
	    echo "test-busy: run $$run of $(RUNS), busy loops $${busy[*]} (load average $$(cut -d' ' -f1 /proc/loadavg))"; \
	    $(MAKE) --no-print-directory test; \
	    echo "test-busy: run $$run passed in $$(( $$(date +%s) - start )) s (load average $$(cut -d' ' -f1 /proc/loadavg))"; \
	  done

# The agent runs on the hosts' own Python, 3.9 or newer: its tests run again (all but the slow
# watchdog, crash and profiler files) on the oldest Python found (pyenv's 3.9 here), in a venv of their own.
OLD_PYTHON ?= $(firstword $(wildcard /root/.pyenv/versions/3.9.*/bin/python3.9) $(shell command -v python3.9))
OLD_VENV   := .venv-oldest
test-agent-oldest:
	@if [ -z "$(OLD_PYTHON)" ]; then echo "test-agent-oldest: no Python 3.9 on this machine"; exit 1; fi
	@[ -x $(OLD_VENV)/bin/pytest ] || { $(OLD_PYTHON) -m venv $(OLD_VENV) && \
	  $(OLD_VENV)/bin/python -m pip install -q --progress-bar off -e 'files/agent[extensions]' pytest 2>&1 \
	  | { grep -v '$(PIP_NOISE)' || true; }; }
	$(OLD_VENV)/bin/pytest -q -p no:cacheprovider tests/agent --ignore tests/agent/faults --ignore tests/agent/test_daemon_crash.py \
	  --ignore tests/agent/test_watchdog.py --ignore tests/agent/test_profile.py

# Plugin unit tests: `ansible-test units` on the build copy at $(COPY) (made as for `make sanity`),
# so the tests import the collection as ansible_collections.pyosquery.fleet exactly as Ansible
# does. In --local mode ansible-test installs nothing: it runs pytest with pytest-xdist (-n) and
# its own plugins, so requirements-dev.txt carries pytest-xdist. Plain pytest works too, in the
# checkout: .venv/bin/pytest tests/unit (tests/unit/conftest.py makes the collection importable).
test-unit: sanity-copy
	cd $(COPY) && $(CURDIR)/$(BIN)/ansible-test units $(SANITY_ARGS)

# ansible-lint with the production profile, inside the repo (it takes git's file list)
lint: venv $(COLLECTIONS)/ansible_collections/pyosquery/fleet
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/ansible-lint --profile production

# ansible-test sanity on a copy of the tree (git-tracked files plus untracked, non-ignored
# ones, so new files count) at $(COPY); the copy is a git repo of its own so that ansible-test
# takes its file list from it. Sanity venvs bootstrap pip with an offline stand-in
# (tests/tools/ansible_test_offline.py). Ignores: tests/sanity/ignore-<ansible-core X.Y>.txt,
# by hand, plus one rule that does not fit the agent package, its tests and benchmarks: pylint
# disallowed-name (`_`, `foo`: ordinary names outside Ansible plugin code). ansible-test takes
# ignores only file by file, and the agent's files change all the time, so a first pylint pass
# finds those files and tests/tools/sanity_ignores.py adds their entries to the copy's ignore
# file; every other rule, and that rule everywhere else, is checked as usual.
SANITY_PYTHON = $(shell $(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ANSIBLE_X_Y = $(shell $(BIN)/python -c 'from ansible.release import __version__ as v; print(".".join(v.split(".")[:2]))')
SANITY_ARGS = --local --color $(if $(CI),no,yes) --python $(SANITY_PYTHON)
SANITY_IGNORE = $(COPY)/tests/sanity/ignore-$(ANSIBLE_X_Y).txt

sanity: sanity-copy
	@rm -f $(BUILD)/ignore.txt; if [ -f $(SANITY_IGNORE) ]; then mv $(SANITY_IGNORE) $(BUILD)/ignore.txt; fi
	@rc=0; (cd $(COPY) && $(CURDIR)/$(BIN)/ansible-test sanity $(SANITY_ARGS) --test pylint --lint) \
	  > $(BUILD)/pylint.txt 2>/dev/null || rc=$$?; \
	  if [ $$rc -ne 0 ] && [ ! -s $(BUILD)/pylint.txt ]; then echo "sanity: the pylint pass did not run" >&2; exit 1; fi
	@if [ -f $(BUILD)/ignore.txt ]; then mv $(BUILD)/ignore.txt $(SANITY_IGNORE); fi
	@$(BIN)/python tests/tools/sanity_ignores.py $(SANITY_IGNORE) < $(BUILD)/pylint.txt
	cd $(COPY) && $(CURDIR)/$(BIN)/ansible-test sanity $(SANITY_ARGS)

sanity-copy: venv deps
	@rm -rf $(COPY); mkdir -p $(COPY)
	@git ls-files -z --cached --others --exclude-standard \
	  | rsync -a --from0 --files-from=- --ignore-missing-args ./ $(COPY)/
	@git -C $(COPY) init -q
	@$(BIN)/python tests/tools/ansible_test_offline.py

# The lab fleet itself: both init modes come up, answer over SSH, and go down without a trace
test-lab: venv deps
	tests/lab/selftest.sh

# molecule/default: create brings up a lab fleet, converge + idempotence + verify, destroy
molecule: venv deps $(COLLECTIONS)/ansible_collections/pyosquery/fleet
	MOLECULE_GLOB='molecule/*/molecule.yml' PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/molecule test --all

# ---------------------------------------------------------------- mutation testing

# Not part of `make test`: cosmic-ray mutates each module of tests/mutation/modules.toml (all, in
# order, or MODULE=name ...) and runs only that module's test files per mutant, at the lowest CPU
# priority; kill rates go into tests/README.md. A cut run resumes; FRESH=1 starts each anew;
# SAMPLE=N makes a new session of N mutants drawn at random (for a module too slow to run whole).
MUTATE_TOOL := $(VENV)/.cosmic-ray-8.7.0
$(MUTATE_TOOL): $(STAMP)
	$(BIN)/python -m pip install -q --progress-bar off cosmic-ray==8.7.0 2>&1 | { grep -v '$(PIP_NOISE)' || true; }
	@touch $@

mutate: $(MUTATE_TOOL)
	nice -n 19 $(BIN)/python tests/mutation/mutate.py $(if $(FRESH),--fresh) $(if $(SAMPLE),--sample $(SAMPLE)) $(MODULE)

# ---------------------------------------------------------------- benchmarks

# Side-by-side measurements (never part of `make test`); each rewrites its table in benchmarks/README.md
bench: venv
	@for script in benchmarks/bench_*.py; do echo "=== $$script"; $(BIN)/python $$script; done

# ---------------------------------------------------------------- demo and lab

demo: venv deps $(COLLECTIONS)/ansible_collections/pyosquery/fleet
	@PATH=$(CURDIR)/$(BIN):$$PATH demo/run.sh

lab-up: venv deps
	QH_ID=$(LAB_ID) QH_STATE=$(LAB_STATE) QH_INIT=$(LAB_INIT) $(LAB) up $(N)
	@echo "try: ANSIBLE_CONFIG=$(ANSIBLE_CONFIG) $(BIN)/ansible fleet -i $(LAB_STATE)/inventory.ini -m ping"
	@echo "     ssh -F $(LAB_STATE)/ssh_config host-1"

lab-down:
	QH_ID=$(LAB_ID) QH_STATE=$(LAB_STATE) $(LAB) down

lab-status:
	@QH_ID=$(LAB_ID) QH_STATE=$(LAB_STATE) $(LAB) status

clean:
	rm -rf $(BUILD) .pytest_cache .ansible tests/output
