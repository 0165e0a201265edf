#!/usr/bin/env bash
# apt-ensure.sh PKG... : install the Debian packages among PKG that are not installed yet.
# Quick (a dpkg-query per package) when everything is present; otherwise one `apt-get update`
# and one `apt-get install`. Needs root. Installing openssh-server starts no sshd here.
set -euo pipefail
missing=()
for pkg in "$@"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "apt-ensure: missing Debian packages ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "apt-ensure: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
