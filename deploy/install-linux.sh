#!/usr/bin/env bash
# Installs or upgrades kanshi on a systemd Linux host: ./deploy/install-linux.sh agent|collector
# Run as root from a built tree (npm ci && npm run build). Idempotent; never touches an existing config.
set -euo pipefail

what=${1:-}
case "$what" in agent|collector) ;; *) echo "usage: $0 agent|collector" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
src=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$src/dist/$what/main.js" ] || { echo "$src/dist/$what/main.js is missing: run 'npm ci && npm run build' first" >&2; exit 1; }

if ! command -v node >/dev/null 2>&1; then
  echo "Node.js 20 or newer is required: Debian 13 / Ubuntu 24.04: apt-get install nodejs; RHEL 9: dnf module install nodejs:20" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "Node.js $(node --version) is too old: kanshi needs 20 or newer" >&2; exit 1; }
[ "$(command -v node)" = /usr/bin/node ] || sed_node=$(command -v node)

getent group kanshi >/dev/null || groupadd --system kanshi
getent passwd kanshi >/dev/null || useradd --system --gid kanshi --home-dir /var/lib/kanshi --shell /usr/sbin/nologin kanshi

install -d -m 0755 /opt/kanshi
cp -a "$src/dist" "$src/node_modules" "$src/package.json" "$src/bin" "$src/examples" "$src/docs" /opt/kanshi/
install -d -m 0750 -o root -g kanshi /etc/kanshi
if [ ! -f "/etc/kanshi/$what.yaml" ]; then
  sed -e "s#dataDir: ./var/$what#dataDir: /var/lib/kanshi/$what#" "$src/examples/$what.yaml" > "/etc/kanshi/$what.yaml"
  echo "wrote /etc/kanshi/$what.yaml from the example: edit it before starting"
fi
if [ "$what" = collector ]; then
  chown kanshi:kanshi /etc/kanshi/collector.yaml   # token add rewrites it
  chmod 0640 /etc/kanshi/collector.yaml
else
  chown root:kanshi "/etc/kanshi/$what.yaml"
  chmod 0640 "/etc/kanshi/$what.yaml"
fi

unit="/etc/systemd/system/kanshi-$what.service"
install -m 0644 "$src/deploy/systemd/kanshi-$what.service" "$unit"
if [ -n "${sed_node:-}" ]; then sed -i "s#/usr/bin/node #$sed_node #" "$unit"; fi
systemctl daemon-reload
systemctl enable "kanshi-$what.service"
if systemctl is-active --quiet "kanshi-$what.service"; then
  systemctl restart "kanshi-$what.service"
  echo "kanshi-$what upgraded and restarted"
else
  echo "kanshi-$what installed and enabled; start it with: systemctl start kanshi-$what"
fi
