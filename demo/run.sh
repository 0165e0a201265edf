#!/usr/bin/env bash
# make demo: the product's main job on a lab fleet of 7 hosts (canary host-1, workstations
# host-2..4, servers host-5..7). The agent is deployed with each group's flags (demo/group_vars),
# then one demo pack, a cheap query and the talk's expensive one (six joins of users), is rolled
# out through canary, 25 % of the workstations, all workstations and servers: the canary's
# watchdog stops the expensive query and the gate rolls that query back alone before any
# workstation gets it, while the cheap one goes through every stage (a partial rollback: the
# play fails at the end, naming the query). The report is printed, then each host's agent
# version, watchdog level and its queries' executions (demo/report.yml); the fleet goes down at the
# end, also on failure. Runs as its own lab set (DEMO_ID, default QH_ID 2; DEMO_STATE, default
# /tmp/pyosquery-demo).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export QH_ID=${DEMO_ID:-2} QH_STATE=${DEMO_STATE:-/tmp/pyosquery-demo} QH_INIT=bash
export ANSIBLE_CONFIG=${ANSIBLE_CONFIG:-$PWD/tests/lab/ansible.cfg} ANSIBLE_CALLBACK_RESULT_FORMAT=yaml
start=$(date +%s)
inventory=$QH_STATE/inventory.ini
state=$QH_STATE/rollouts
# phase WHAT: say how long the demo has run so far
phase() { printf 'demo: %s after %d s\n' "$1" "$(( $(date +%s) - start ))"; }

trap 'tests/lab/labhosts.sh down' EXIT
tests/lab/labhosts.sh up 7
phase "lab fleet up"
ansible-playbook -i "$inventory" demo/deploy.yml
phase "agent deployed"

# rollout ID: roll demo/rollouts/ID.yml out; the report is printed below, from the state dir
rollout() {
  ansible-playbook -i "$inventory" pyosquery.fleet.rollout -e "@demo/rollouts/$1.yml" \
    -e "{\"rollout_state_dir\": \"$state\", \"rollout_print_report\": false}"
}
# decided ID DECISION: fails unless the rollout's report says DECISION
decided() {
  python3 - "$state/$1/report.json" "$1" "$2" <<'PY'
import json, sys
decision = json.load(open(sys.argv[1]))["decision"]
if decision != sys.argv[3]:
    sys.exit("demo: %s ended with %s, not %s" % (sys.argv[2], decision, sys.argv[3]))
PY
}

rollout demo-1 || true   # fails the play: the canary catches the expensive query and rolls it back alone
decided demo-1 partial_rollback
phase "demo-1: expensive query rolled back at the canary, cheap one promoted through every stage"
printf '\n'; cat "$state/demo-1/report.md"; printf '\n'
ansible-playbook -i "$inventory" demo/report.yml
phase "done"
