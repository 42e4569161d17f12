#!/bin/bash
# Install the Debian packages the lab and the tests need, without touching the host's daemons.
#
# Debian starts (and enables) a package's daemon when it is installed: snmpd, prometheus,
# softflowd, nfdump's nfcapd... The lab runs its own copies on its own ports, so:
#  - while installing, a policy-rc.d refuses every start (unless the host has its own policy-rc.d,
#    which is then left alone and obeyed);
#  - afterwards, each unit shipped by a package installed HERE, asked for or pulled in as a
#    dependency (it was absent, so its daemon was not running before), is disabled, and each is
#    named. A package that was already installed, e.g. the host's real snmpd, is never stopped,
#    disabled or killed.
# Usage: scripts/apt-install.sh PACKAGE...
set -euo pipefail

missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
installed() { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 2>/dev/null | awk '$1 == "ii" {print $2}' | sort; }
before=$(installed)
policy=/usr/sbin/policy-rc.d
ours=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# written by geumcheon-nms scripts/apt-install.sh for the duration of one install\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  ours=1
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

for pkg in $(comm -13 <(echo "$before") <(installed)); do
  units=$(dpkg -L "$pkg" 2>/dev/null | grep -E '^(/usr)?/lib/systemd/system/[^/@]+\.service$' || true)
  for path in $units; do
    unit=${path##*/}
    if systemctl is-enabled --quiet "$unit" 2>/dev/null; then
      systemctl disable --quiet "$unit" 2>/dev/null || true
      echo "make: disabled $unit (installed just now with package $pkg: make starts no host daemons)"
    fi
    if [ -d /run/systemd/system ] && systemctl is-active --quiet "$unit" 2>/dev/null; then
      systemctl stop "$unit"
      echo "make: stopped $unit (started by the installation of $pkg)"
    fi
  done
done
[ -n "$ours" ] && echo "make: daemons of newly installed packages were not started (policy-rc.d during the install)"
exit 0
