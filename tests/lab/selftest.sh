#!/usr/bin/env bash
# selftest.sh: the lab fleet keeps its promises (run by `make test-lab`, about 10 s).
# Each mode comes up as its own lab set (bash: QH_ID 3, systemd: QH_ID 4, mixed: QH_ID 5), answers over SSH
# with strict host-key checking, keeps its own hostname, processes and /etc, carries the
# documented groups, and `down` leaves no process, mount, namespace or link behind.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=$HERE/labhosts.sh
ANSIBLE=${ANSIBLE:-$(command -v ansible || echo "$HERE/../../.venv/bin/ansible")}
export ANSIBLE_CONFIG=${ANSIBLE_CONFIG:-$HERE/ansible.cfg}
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() {   # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@" >/dev/null; then ok "$what"; else not_ok "$what"; fi
}
on() { ssh -F "$QH_STATE/ssh_config" -o BatchMode=yes -o ConnectTimeout=5 "$@"; }

# what a lab set leaves in the root namespace: netns, links, mounts under its state, processes
leftovers() {
  ip netns list | awk -v p="qh$QH_ID-" 'index($1, p) == 1'
  ip -o link show | awk -F': ' -v v="qh${QH_ID}v" -v b="qhbr$QH_ID" 'index($2, v) == 1 || $2 == b'
  grep -F " $QH_STATE/" /proc/self/mountinfo || true
  grep -F " /run/netns/qh$QH_ID-" /proc/self/mountinfo || true
  local pid
  for pid in $1; do if [ -e "/proc/$pid" ]; then echo "process $pid"; fi; done
  [ ! -e "$QH_STATE" ] || echo "state dir $QH_STATE"
}

# pids of every process of the set (all live in its network namespaces) plus the launchers
lab_pids() {
  local ns
  for ns in $(ip netns list | awk -v p="qh$QH_ID-" 'index($1, p) == 1 {print $1}'); do
    ip netns pids "$ns"
  done
  cat "$QH_STATE"/host-*/pid
}

cleanup() { "$LAB" down >/dev/null 2>&1 || true; }

# ------------------------------------------------------------------ bash init, 3 hosts
export QH_ID=3 QH_STATE=/tmp/pyosquery-labtest-bash QH_INIT=bash QH_NAME=host
trap cleanup EXIT
"$LAB" up 3
for i in 1 2 3; do
  check "host-$i answers over SSH with its own hostname" test "$(on "host-$i" hostname)" = "host-$i"
done
check "host-1 has its own process table (PID 1 is the lab's bash init)" test "$(on host-1 'ps -o comm= -p 1')" = bash
check "host-1 sees few processes (own PID namespace)" test "$(on host-1 'ps -e --no-headers | wc -l')" -lt 20
on host-1 'echo lab-selftest > /etc/pyosquery-selftest && mkdir -p /var/lib/pyosquery /opt/pyosquery'
check "a file written in /etc on host-1 is absent on host-2" on host-2 'test ! -e /etc/pyosquery-selftest'
check "a file written in /etc on host-1 is absent on the controller" test ! -e /etc/pyosquery-selftest
check "/var and /opt are writable on a host" on host-3 'touch /var/lib/x /opt/x'
check "the controller's /root is not visible on a host" on host-2 'test ! -e /root/.pyenv'
refuses_unknown_key() {
  ! ssh -F "$QH_STATE/ssh_config" -o BatchMode=yes -o UserKnownHostsFile=/dev/null host-1 true 2>/dev/null
}
check "strict host-key checking refuses an unknown host key" refuses_unknown_key
groups=$(ANSIBLE_INVENTORY_UNPARSED_WARNING=False "${ANSIBLE%/ansible}/ansible-inventory" \
  -i "$QH_STATE/inventory.ini" --list | python3 -c '
import json, sys
inv = json.load(sys.stdin)
print(" ".join("%s=%s" % (g, ",".join(inv[g]["hosts"])) for g in ("canary", "workstations", "servers")),
      "fleet=" + ",".join(inv["fleet"]["children"]))')
check "inventory groups: $groups" test "$groups" = \
  "canary=host-1 workstations=host-2 servers=host-3 fleet=canary,workstations,servers"
check "Ansible pings the fleet" "$ANSIBLE" fleet -i "$QH_STATE/inventory.ini" -m ansible.builtin.ping
pids=$(lab_pids | tr '\n' ' ')
"$LAB" down
check "down leaves nothing behind (bash)" test -z "$(leftovers "$pids")"
check "down is safe when nothing is up" "$LAB" down

# ------------------------------------------------------------------ systemd init, 2 hosts
export QH_ID=4 QH_STATE=/tmp/pyosquery-labtest-systemd QH_INIT=systemd
"$LAB" up 2
for i in 1 2; do
  state=$(on "host-$i" 'timeout 60 systemctl is-system-running --wait' || true)
  # a unit of the controller's image may fail inside a container ("degraded"): systemd still runs
  check "host-$i runs systemd as PID 1 (system $state)" \
    test "$(on "host-$i" 'ps -o comm= -p 1')" = systemd -a \( "$state" = running -o "$state" = degraded \)
  [ "$state" = running ] || on "host-$i" 'systemctl --failed --no-legend' || true
done
check "systemctl drives a service on a host" on host-1 'systemctl restart ssh && systemctl is-active -q ssh'
check "Ansible pings the systemd fleet" "$ANSIBLE" fleet -i "$QH_STATE/inventory.ini" -m ansible.builtin.ping
pids=$(lab_pids | tr '\n' ' ')
"$LAB" down
check "down leaves nothing behind (systemd)" test -z "$(leftovers "$pids")"

# ------------------------------------------------------------------ mixed init, 2 hosts
export QH_ID=5 QH_STATE=/tmp/pyosquery-labtest-mixed QH_INIT=mixed
"$LAB" up 2
check "mixed: host-1 runs bash as PID 1" test "$(on host-1 'ps -o comm= -p 1')" = bash
check "mixed: host-2 runs systemd as PID 1" test "$(on host-2 'ps -o comm= -p 1')" = systemd
check "mixed: the inventory names each host's init" \
  test "$(grep -o 'lab_init=[a-z]*' "$QH_STATE/inventory.ini" | tr '\n' ' ')" = "lab_init=bash lab_init=systemd "
pids=$(lab_pids | tr '\n' ' ')
"$LAB" down
check "down leaves nothing behind (mixed)" test -z "$(leftovers "$pids")"
trap - EXIT

echo "selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
