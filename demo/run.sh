#!/usr/bin/env bash
# make demo: bring up a lab fleet, reach every host with Ansible over SSH, print what each host
# calls itself, take the fleet down (also on failure). DEMO_HOSTS (default 5) sets its size.
# Runs as its own lab set (QH_ID 2, state in /tmp/pyosquery-demo) beside `make lab-up`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export QH_ID=${DEMO_ID:-2} QH_STATE=${DEMO_STATE:-/tmp/pyosquery-demo} QH_INIT=bash
export ANSIBLE_CONFIG=${ANSIBLE_CONFIG:-$PWD/tests/lab/ansible.cfg}
trap 'tests/lab/labhosts.sh down' EXIT
tests/lab/labhosts.sh up "${DEMO_HOSTS:-5}"
ansible-playbook -i "$QH_STATE/inventory.ini" demo/hostnames.yml
