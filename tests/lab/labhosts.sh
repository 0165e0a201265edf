#!/usr/bin/env bash
# labhosts.sh - the lab fleet: throwaway Linux hosts made of namespaces, reached over real SSH.
#
#   labhosts.sh up N      start N hosts (replaces a set already up under the same QH_ID/QH_STATE)
#   labhosts.sh down      stop them and remove every trace; safe when nothing is up
#   labhosts.sh status    one line per host
#   labhosts.sh deps      install the Debian packages the lab needs (when missing)
#
# Each host has its own hostname (UTS ns), process table (PID ns, private /proc), network
# namespace with its own address 10.77.$QH_ID.(10+i) on a bridge qhbr$QH_ID (10.77.$QH_ID.1),
# copy-on-write /etc /var /opt /usr /home /srv (overlayfs, one upper dir per host), a pristine
# /root, private tmpfs /tmp /run /dev/shm, the rest of / read-only, and an sshd with its own
# generated host key. `up` writes into $QH_STATE: inventory.ini (groups below), known_hosts
# (strict host-key checking stays on), id_ed25519 (the client key), ssh_config, hosts.json.
#
# Inventory groups: host 1 is `canary`; of the other N-1 hosts the first ceil((N-1)/2) are
# `workstations` and the rest `servers`; all are in `fleet`. N=3: canary host-1,
# workstations host-2, servers host-3. N=10: canary 1, workstations 2-6, servers 7-10.
#
# Environment (the same for `up` and `down`):
#   QH_STATE  state dir (default /tmp/pyosquery-lab); must lie outside the overlaid dirs
#   QH_ID     0-254, lets independent sets coexist (default 0): netns qh$QH_ID-i, bridge qhbr$QH_ID
#   QH_NAME   host name prefix (default host): hosts are $QH_NAME-1 .. $QH_NAME-N
#   QH_INIT   bash (default: a tiny reaper loop as PID 1 keeps sshd alive; <1 s for 10 hosts),
#             systemd (systemd-nspawn --boot on an overlay of /: real systemctl, journald),
#             or mixed (odd hosts bash, even hosts systemd: both kinds in one set and in each group of 6+)
# Needs root, Linux with overlayfs/veth/bridge, and Debian's openssh-server, iproute2 (and
# systemd-container for QH_INIT=systemd); `up` installs those that are missing.
set -euo pipefail

QH_STATE=${QH_STATE:-/tmp/pyosquery-lab}
QH_ID=${QH_ID:-0}
QH_NAME=${QH_NAME:-host}
QH_INIT=${QH_INIT:-bash}
QH_SUBNET=10.77.$QH_ID
QH_BR=qhbr$QH_ID
QH_OVERLAY_DIRS="etc var opt root usr home srv"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "labhosts: $*" >&2; exit 2; }

host_ip() { echo "$QH_SUBNET.$((10 + $1))"; }
# init of host i: QH_INIT, or for `mixed` bash on odd and systemd on even hosts
init_of() {
  if [ "$QH_INIT" = mixed ]; then
    if [ $(($1 % 2)) -eq 0 ]; then echo systemd; else echo bash; fi
  else echo "$QH_INIT"; fi
}
netns_of() { echo "qh$QH_ID-$1"; }
# group of host i among n: canary, then ceil((n-1)/2) workstations, then servers
group_of() {
  local i=$1 n=$2
  if [ "$i" -eq 1 ]; then echo canary
  elif [ "$i" -le $((1 + n / 2)) ]; then echo workstations
  else echo servers; fi
}

check_env() {
  if ! [[ "$QH_ID" =~ ^[0-9]+$ ]] || [ "$QH_ID" -gt 254 ]; then die "QH_ID must be 0-254"; fi
  [[ "$QH_NAME" =~ ^[a-z][a-z0-9-]*$ ]] || die "QH_NAME must be a lower-case host name prefix"
  case "$QH_INIT" in bash|systemd|mixed) ;; *) die "QH_INIT must be bash, systemd or mixed" ;; esac
  case "$(realpath -m "$QH_STATE")/" in
    /|/etc/*|/var/*|/opt/*|/root/*|/usr/*|/home/*|/srv/*)
      die "QH_STATE ($QH_STATE) must lie outside / $QH_OVERLAY_DIRS (try /tmp/...)" ;;
  esac
  [ "$(id -u)" -eq 0 ] || die "needs root (namespaces, mounts, veth)"
}

cmd_deps() {
  local pkgs=(openssh-server iproute2)
  if [ "$QH_INIT" != bash ]; then pkgs+=(systemd-container); fi
  "$HERE/../tools/apt-ensure.sh" "${pkgs[@]}"
}

# Files of one host, written into its upper layers before anything is mounted.
prepare_host() {
  local i=$1 name=$2 d=$3 dir
  for dir in $QH_OVERLAY_DIRS; do
    mkdir -p "$d/up/$dir" "$d/work/$dir"
    chmod --reference="/$dir" "$d/up/$dir"
    chown --reference="/$dir" "$d/up/$dir"
  done
  mkdir -p "$d/up/etc/ssh" "$d/up/var/log"
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$d/up/etc/ssh/lab_host_ed25519_key"
  echo "$name" > "$d/up/etc/hostname"
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$d/up/etc/machine-id"
  echo >> "$d/up/etc/machine-id"
  { grep -v '127.0.1.1' /etc/hosts; echo "127.0.1.1 $name"; } > "$d/up/etc/hosts"
}

make_netns() {
  local i=$1 ns; ns=$(netns_of "$i")
  ip netns add "$ns"
  ip link add "qh${QH_ID}v$i" type veth peer name eth0 netns "$ns"
  ip link set "qh${QH_ID}v$i" master "$QH_BR" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$(host_ip "$i")/24" dev eth0
  ip -n "$ns" link set eth0 up
}

start_bash_host() {
  local i=$1 name=$2 d=$3 dir lower mounts=""
  cat > "$d/up/etc/ssh/sshd_config_lab" <<EOF
ListenAddress 0.0.0.0
HostKey /etc/ssh/lab_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
  for dir in $QH_OVERLAY_DIRS; do
    lower=/$dir
    if [ "$dir" = root ]; then lower=$QH_STATE/skel-root; fi     # never the controller's /root
    mounts+="mount -t overlay overlay -o lowerdir=$lower,upperdir=$d/up/$dir,workdir=$d/work/$dir /$dir; "
  done
  # PID 1 of the host: mounts its view, then a loop that reaps orphans and keeps sshd running.
  ip netns exec "$(netns_of "$i")" unshare --fork --pid --mount --uts --mount-proc --propagation private \
    bash -c "set -e; hostname $name; $mounts
      mount -t tmpfs -o mode=1777 tmpfs /tmp
      mount -t tmpfs -o mode=755 tmpfs /run
      mount -t tmpfs -o mode=1777 tmpfs /dev/shm
      mkdir -p /run/sshd
      mount -o remount,bind,ro /
      set +e
      trap 'kill -TERM -1 2>/dev/null; exit 0' TERM INT
      while :; do
        [ -e /run/sshd.pid ] && kill -0 \$(cat /run/sshd.pid) 2>/dev/null ||
          /usr/sbin/sshd -f /etc/ssh/sshd_config_lab -E /var/log/sshd.log
        sleep 2 & wait \$!
      done" </dev/null >"$d/console.log" 2>&1 &
  echo $! > "$d/pid"
}

start_systemd_host() {
  local i=$1 name=$2 d=$3 u
  mkdir -p "$d/work-root" "$d/merged" "$d/up/etc/ssh/sshd_config.d" "$d/up/etc/systemd/system"
  printf '%s\n' 'HostKey /etc/ssh/lab_host_ed25519_key' 'PermitRootLogin prohibit-password' \
    'PasswordAuthentication no' 'UseDNS no' > "$d/up/etc/ssh/sshd_config.d/lab.conf"
  # the controller's enabled units (databases, timers...) stay off; sshd is the one service
  for u in $LAB_MASK_UNITS; do ln -sf /dev/null "$d/up/etc/systemd/system/$u"; done
  # /root: the pristine skeleton, opaque so the controller's /root stays hidden
  rm -rf "$d/up/root"
  cp -a "$QH_STATE/skel-root" "$d/up/root"
  setfattr_opaque "$d/up/root"
  mount -t overlay overlay -o "lowerdir=/,upperdir=$d/up,workdir=$d/work-root" "$d/merged"
  systemd-nspawn -D "$d/merged" -M "$name" --register=no --keep-unit --console=passive \
    --network-namespace-path="/run/netns/$(netns_of "$i")" --tmpfs=/tmp --boot \
    </dev/null >"$d/console.log" 2>&1 &
  echo $! > "$d/pid"
}

setfattr_opaque() {
  python3 -c 'import os, sys; os.setxattr(sys.argv[1], "trusted.overlay.opaque", b"y")' "$1"
}

up_one() {
  local i=$1 name="$QH_NAME-$1" d="$QH_STATE/host-$1"
  mkdir -p "$d"
  prepare_host "$i" "$name" "$d"
  make_netns "$i"
  if [ "$(init_of "$i")" = systemd ]; then start_systemd_host "$i" "$name" "$d"
  else start_bash_host "$i" "$name" "$d"; fi
}

write_inventory() {
  local n=$1 i g hv cp
  cp="-o ControlPath=$QH_STATE/cp/%C"   # our own ssh masters, so `down` can close them
  hv="ansible_user=root ansible_ssh_private_key_file=$QH_STATE/id_ed25519"
  hv+=" ansible_python_interpreter=/usr/bin/python3"
  hv+=" ansible_ssh_common_args='-o UserKnownHostsFile=$QH_STATE/known_hosts -o StrictHostKeyChecking=yes $cp'"
  : > "$QH_STATE/known_hosts"
  : > "$QH_STATE/ssh_config"
  {
    echo "# lab fleet: QH_ID=$QH_ID QH_INIT=$QH_INIT, written by labhosts.sh"
    for g in canary workstations servers; do
      echo "[$g]"
      for i in $(seq 1 "$n"); do
        if [ "$(group_of "$i" "$n")" = "$g" ]; then
          echo "$QH_NAME-$i ansible_host=$(host_ip "$i") lab_init=$(init_of "$i") $hv"
        fi
      done
      echo
    done
    printf '[fleet:children]\ncanary\nworkstations\nservers\n'
  } > "$QH_STATE/inventory.ini"
  for i in $(seq 1 "$n"); do
    echo "$(host_ip "$i") $(cut -d' ' -f1,2 "$QH_STATE/host-$i/up/etc/ssh/lab_host_ed25519_key.pub")" \
      >> "$QH_STATE/known_hosts"
    printf 'Host %s\n  HostName %s\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  ControlPath none\n' \
      "$QH_NAME-$i" "$(host_ip "$i")" "$QH_STATE/id_ed25519" "$QH_STATE/known_hosts" >> "$QH_STATE/ssh_config"
  done
  {
    echo "["
    for i in $(seq 1 "$n"); do
      printf '  {"name": "%s", "address": "%s", "group": "%s", "init": "%s"}%s\n' "$QH_NAME-$i" "$(host_ip "$i")" \
        "$(group_of "$i" "$n")" "$(init_of "$i")" "$([ "$i" -lt "$n" ] && echo ,)"
    done
    echo "]"
  } > "$QH_STATE/hosts.json"
}

wait_for_sshd() {
  local n=$1 i t ip
  for i in $(seq 1 "$n"); do
    ip=$(host_ip "$i") t=0
    until timeout 0.5 bash -c "</dev/tcp/$ip/22" 2>/dev/null; do
      t=$((t + 1))
      if [ "$t" -gt 300 ]; then
        echo "labhosts: $QH_NAME-$i ($ip): no sshd after 30 s; console:" >&2
        tail -n 30 "$QH_STATE/host-$i/console.log" >&2 || true
        return 1
      fi
      sleep 0.1
    done
  done
}

cmd_up() {
  local n=$1 i
  if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 240 ]; then die "N must be 1-240"; fi
  cmd_deps
  cmd_down quiet                      # a set left under the same QH_ID/QH_STATE goes first
  mkdir -p "$QH_STATE/cp"
  chmod 700 "$QH_STATE"
  ssh-keygen -q -t ed25519 -N '' -C "lab-$QH_ID" -f "$QH_STATE/id_ed25519"
  echo "$QH_INIT" > "$QH_STATE/init"
  if [ "$QH_INIT" != bash ]; then
    LAB_MASK_UNITS=$(systemctl list-unit-files --state=enabled --no-legend 2>/dev/null |
      awk '$1 != "ssh.service" {print $1}' | tr '\n' ' ')
    LAB_MASK_UNITS+=" console-getty.service"
    export LAB_MASK_UNITS
    # every booted systemd holds several inotify instances; 128 (the default) caps it near 20 hosts
    [ "$(sysctl -n fs.inotify.max_user_instances)" -ge 8192 ] || sysctl -q -w fs.inotify.max_user_instances=8192
  fi
  install -d -m 700 "$QH_STATE/skel-root" "$QH_STATE/skel-root/.ssh"
  cp -a /etc/skel/. "$QH_STATE/skel-root/"
  install -m 600 "$QH_STATE/id_ed25519.pub" "$QH_STATE/skel-root/.ssh/authorized_keys"
  ip link add "$QH_BR" type bridge
  ip addr add "$QH_SUBNET.1/24" dev "$QH_BR"
  ip link set "$QH_BR" up
  UP_DONE=no
  trap 'if [ "$UP_DONE" = no ]; then echo "labhosts: up failed; removing what it made" >&2; cmd_down quiet; fi' EXIT
  local jobs=()
  for i in $(seq 1 "$n"); do up_one "$i" & jobs+=($!); done
  for i in "${jobs[@]}"; do wait "$i"; done      # a failed host fails `up`
  write_inventory "$n"
  wait_for_sshd "$n"
  UP_DONE=yes
  echo "up: $n $QH_INIT hosts ($QH_NAME-1..$QH_NAME-$n); inventory: $QH_STATE/inventory.ini"
}

# running and not a zombie (an exited launcher waits for its reaper, who is not us)
alive() {
  local st
  st=$(awk '{print $3}' 2>/dev/null < "/proc/$1/stat") || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Everything `up` made, found from the state dir and from the names it uses, so that `down`
# also cleans after a crashed `up` or a deleted state dir.
cmd_down() {
  local quiet=${1:-} f pid ns mnt pids=() launchers=()
  for ns in $(ip netns list 2>/dev/null | awk -v p="qh$QH_ID-" 'index($1, p) == 1 {print $1}'); do
    # every process of a host lives in its netns; killing them all ends its PID namespace
    # shellcheck disable=SC2207
    pids+=($(ip netns pids "$ns" 2>/dev/null || true))
  done
  for f in "$QH_STATE"/host-*/pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    # only our own launcher (its command line names this host's state dir), never a reused pid
    if tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -qF "${f%/pid}/"; then launchers+=("$pid"); fi
  done
  if [ ${#pids[@]} -gt 0 ]; then kill -KILL "${pids[@]}" 2>/dev/null || true; fi
  for pid in "${launchers[@]}"; do                 # unshare / systemd-nspawn, in the root netns
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for f in "$QH_STATE"/cp/*; do                   # ssh masters that Ansible left open to the hosts
    if [ -S "$f" ]; then ssh -o ControlPath="$f" -O exit lab >/dev/null 2>&1 || true; fi
  done
  # overlays of systemd hosts (bash hosts mount only inside their own mount namespace)
  while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done < <(
    awk -v p="$(realpath -m "$QH_STATE")/" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r)
  for f in $(ip -o link show 2>/dev/null | awk -F': ' -v p="qh${QH_ID}v" 'index($2, p) == 1 {split($2, a, "@"); print a[1]}'); do
    ip link del "$f" 2>/dev/null || true
  done
  for ns in $(ip netns list 2>/dev/null | awk -v p="qh$QH_ID-" 'index($1, p) == 1 {print $1}'); do
    ip netns del "$ns"
  done
  ip link del "$QH_BR" 2>/dev/null || true
  rm -rf "$QH_STATE"
  # the killed processes are zombies until the system's reaper collects them (up to a few s)
  for _ in $(seq 1 60); do
    f=0
    for pid in "${pids[@]}" "${launchers[@]}"; do [ -e "/proc/$pid" ] && f=1 && break; done
    [ "$f" = 0 ] && break
    sleep 0.05
  done
  [ -n "$quiet" ] || echo "down: lab QH_ID=$QH_ID ($QH_STATE) removed"
}

cmd_status() {
  local f pid h
  [ -d "$QH_STATE" ] || { echo "no lab under $QH_STATE"; return 0; }
  for f in "$QH_STATE"/host-*/pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f") h=$(basename "$(dirname "$f")")
    if kill -0 "$pid" 2>/dev/null; then echo "$h running ($(cat "$QH_STATE/init"), pid $pid)"
    else echo "$h dead"; fi
  done
}

check_env
case "${1:-}" in
  up) cmd_up "${2:-3}" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  deps) cmd_deps ;;
  *) echo "usage: $0 up N | down | status | deps" >&2; exit 2 ;;
esac
