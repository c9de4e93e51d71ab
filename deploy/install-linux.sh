#!/usr/bin/env bash
# Installs or upgrades kanshi on a systemd Linux host (Debian/Ubuntu, RHEL and
# its rebuilds). Run as root from an unpacked, built kanshi tree:
#
#   ./deploy/install-linux.sh agent        # or: collector
#
# The tree is the repository after `npm ci && npm run build` (dist/ and
# node_modules/), or a release archive of it (npm run bundle:offline). The agent
# runs as one file, dist/kanshi-agent.mjs, and needs no node_modules; on a host
# without Node.js 20+ it runs as the single executable dist/kanshi-agent when
# the tree has one. Idempotent: run it again from a newer tree to upgrade. It
# never changes an existing /etc/kanshi/*.yaml or *.env. See docs/deploy-linux.md.
set -euo pipefail

PREFIX=/opt/kanshi
ETC=/etc/kanshi
STATE=/var/lib/kanshi
UNITDIR=/etc/systemd/system
BINDIR=/usr/local/bin

die() { echo "install-linux.sh: $*" >&2; exit 1; }
say() { echo "install-linux.sh: $*"; }

what=${1:-}
case "$what" in
  agent|collector) ;;
  *) echo "usage: $0 agent|collector" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0 $what)"

src=$(cd "$(dirname "$0")/.." && pwd -P)
if [ "$what" = agent ]; then
  # The agent runs as one file (dist/kanshi-agent.mjs); it needs no node_modules.
  [ -f "$src/dist/kanshi-agent.mjs" ] || die "$src/dist/kanshi-agent.mjs is missing: build the tree first (npm ci && npm run build), or unpack a release tarball"
else
  [ -f "$src/dist/collector/main.js" ] || die "$src/dist/collector/main.js is missing: build the tree first (npm ci && npm run build), or unpack a release tarball"
fi
[ -f "$src/deploy/systemd/kanshi-$what.service" ] || die "$src/deploy/systemd/kanshi-$what.service is missing"

# --- Node.js 20 or newer ------------------------------------------------------
node_help() {
  cat >&2 <<'EOF'
Install Node.js 20 or newer from the distribution, then run this script again:
  Debian 13 (trixie):              apt-get install nodejs
  Debian 12 / Ubuntu 22.04, 24.04: their nodejs is older than 20; use the
                                   NodeSource packages (nodejs 20.x or 22.x) or the
                                   official linux-x64 tarball unpacked to /usr/local
  RHEL / Rocky / Alma 8.9+, 9.3+:  dnf module install nodejs:20
  RHEL / Rocky / Alma 10:          dnf install nodejs
Closed networks: download the package (or the tarball) on a connected machine
and carry it in; `apt-get install ./nodejs_*.deb` or `dnf install ./nodejs-*.rpm`.
EOF
}
node_bin=$(command -v node 2>/dev/null || true)
node_major=0
if [ -n "$node_bin" ]; then
  node_major=$("$node_bin" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
fi
# An agent host without Node.js 20+ runs the single executable instead, when the
# tree has one (npm run build:sea; offline-bundle.sh --with-sea).
sea=no
if [ "$what" = agent ] && [ "$node_major" -lt 20 ] && [ -x "$src/dist/kanshi-agent" ] \
   && "$src/dist/kanshi-agent" --version >/dev/null 2>&1; then
  sea=yes
  say "no Node.js 20+ here: the agent runs as the single executable dist/kanshi-agent"
fi
if [ "$sea" = no ]; then
  if [ -z "$node_bin" ]; then
    echo "install-linux.sh: node was not found on PATH" >&2
    node_help
    exit 1
  fi
  if [ "$node_major" -lt 20 ]; then
    echo "install-linux.sh: $node_bin is Node.js $("$node_bin" --version); kanshi needs 20 or newer" >&2
    node_help
    exit 1
  fi
fi
if [ "$what" = collector ] && [ ! -d "$src/node_modules" ]; then
  die "$src/node_modules is missing: the collector needs its modules (better-sqlite3 is native). Use the release tarball (npm run bundle:offline) or run npm ci --omit=dev in the tree"
fi

# --- user and group ----------------------------------------------------------
nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/sbin/nologin
if ! getent group kanshi >/dev/null; then
  groupadd --system kanshi
  say "created group kanshi"
fi
if ! getent passwd kanshi >/dev/null; then
  useradd --system --gid kanshi --no-create-home --home-dir "$STATE" \
    --shell "$nologin" --comment "kanshi monitoring" kanshi
  say "created system user kanshi (no login)"
fi

# --- program files: /opt/kanshi ----------------------------------------------
# A new tree is staged beside the old one and swapped in; the previous tree is
# kept as /opt/kanshi.prev for a quick roll back.
running=()
for u in kanshi-agent kanshi-collector; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$u.service" 2>/dev/null; then
    running+=("$u")
  fi
done

if [ "$src" = "$(cd "$PREFIX" 2>/dev/null && pwd -P)" ]; then
  say "running from $PREFIX itself: program files left as they are"
  copied=no
else
  stage="$PREFIX.new"
  rm -rf "$stage"
  mkdir -p "$stage"
  for item in dist node_modules package.json package-lock.json bin examples docs deploy alert-rules dashboards README.md README.ja.md MANIFEST.txt; do
    if [ -e "$src/$item" ]; then
      cp -R "$src/$item" "$stage/"
    fi
  done
  chown -R root:root "$stage"
  chmod -R u+rwX,go+rX,go-w "$stage"
  rm -rf "$PREFIX.prev"
  if [ -d "$PREFIX" ]; then
    mv "$PREFIX" "$PREFIX.prev"
  fi
  mv "$stage" "$PREFIX"
  copied=yes
  say "installed $src into $PREFIX$([ -d "$PREFIX.prev" ] && echo " (previous version kept in $PREFIX.prev)")"
  # Read examples, rules and units from the installed copy from here on: the
  # source may have been /opt/kanshi.prev (a roll back), which is now replaced.
  src=$PREFIX
fi
if command -v restorecon >/dev/null 2>&1; then
  restorecon -R "$PREFIX" >/dev/null 2>&1 || true
fi

# Commands on PATH: wrappers that use this node and the installed tree.
if [ "$sea" = yes ]; then agent_cmd="$PREFIX/dist/kanshi-agent"; else agent_cmd="$node_bin $PREFIX/dist/kanshi-agent.mjs"; fi
cat > "$BINDIR/kanshi-agent.tmp" <<EOF
#!/bin/sh
# kanshi-agent, written by deploy/install-linux.sh
exec $agent_cmd "\$@"
EOF
# token add rewrites the config file with mode 0600, owned by the caller (root):
# the wrapper gives files under /etc/kanshi back to the service (root:kanshi 0640).
cat > "$BINDIR/kanshi-collector.tmp" <<EOF
#!/bin/sh
# kanshi-collector, written by deploy/install-linux.sh
# Anything but token: node replaces this shell (signals reach the collector).
[ "\${1:-}" = token ] || exec $node_bin $PREFIX/dist/collector/main.js "\$@"
cfg=
prev=
for a in "\$@"; do
  case "\$prev" in --config|-c) cfg=\$a ;; esac
  case "\$a" in --config=*) cfg=\${a#--config=} ;; esac
  prev=\$a
done
$node_bin $PREFIX/dist/collector/main.js "\$@"
rc=\$?
if [ "\$rc" -eq 0 ] && [ "\${1:-}" = token ] && [ "\$(id -u)" -eq 0 ]; then
  case "\$cfg" in
    $ETC/*) chown root:kanshi "\$cfg" && chmod 0640 "\$cfg" ;;
  esac
fi
exit \$rc
EOF
progs="agent collector"
if [ "$sea" = yes ]; then
  # No node here: a collector command could not run.
  rm -f "$BINDIR/kanshi-collector.tmp"
  progs=agent
fi
for prog in $progs; do
  chmod 0755 "$BINDIR/kanshi-$prog.tmp"
  mv "$BINDIR/kanshi-$prog.tmp" "$BINDIR/kanshi-$prog"
  say "installed $BINDIR/kanshi-$prog"
done

# --- configuration: /etc/kanshi ----------------------------------------------
install -d -m 0750 -o root -g kanshi "$ETC"
conf="$ETC/$what.yaml"
fresh=no
if [ ! -f "$conf" ]; then
  host_id=$(uname -n)
  host_id=${host_id%%.*}
  tmp="$conf.tmp"
  sed -e "s#^dataDir: ./var/$what#dataDir: $STATE/$what#" \
      -e "s|^id: web01 .*|id: $host_id                # the id given to: kanshi-collector token add $host_id|" \
      "$src/examples/$what.yaml" > "$tmp"
  chown root:kanshi "$tmp"
  chmod 0640 "$tmp"
  mv "$tmp" "$conf"
  fresh=yes
  say "wrote $conf from the example (dataDir: $STATE/$what): edit it before starting"
else
  say "kept $conf"
fi
env_file="$ETC/$what.env"
if [ ! -f "$env_file" ]; then
  (
    umask 077
    if [ "$what" = agent ]; then
      printf '%s\n' '# Secrets for kanshi-agent (systemd EnvironmentFile). One NAME=value per line.' \
        '#KANSHI_AGENT_TOKEN=' > "$env_file"
    else
      printf '%s\n' '# Secrets for kanshi-collector (systemd EnvironmentFile). One NAME=value per line.' \
        '#KANSHI_INFLUX_TOKEN=' '#KANSHI_INFLUX_PASSWORD=' '#KANSHI_SMTP_PASSWORD=' > "$env_file"
    fi
  )
  chown root:root "$env_file"
  chmod 0600 "$env_file"
  say "wrote $env_file (mode 0600) for secrets"
fi
if [ "$what" = agent ]; then
  # dataDir, and jobs/ for `kanshi-agent job run` run by root from cron: the
  # result files must land in a directory the agent (user kanshi) can read and clean.
  install -d -m 0755 "$STATE"
  install -d -m 0700 -o kanshi -g kanshi "$STATE/agent" "$STATE/agent/jobs"
fi
if [ "$what" = collector ] && [ ! -d "$ETC/alert-rules" ] && [ -d "$src/alert-rules" ]; then
  install -d -m 0750 -o root -g kanshi "$ETC/alert-rules"
  for f in "$src"/alert-rules/*.yaml; do
    [ -e "$f" ] || continue
    install -m 0640 -o root -g kanshi "$f" "$ETC/alert-rules/"
  done
  say "copied the default alert rules to $ETC/alert-rules (used when alerting: is enabled)"
fi
if command -v restorecon >/dev/null 2>&1; then
  restorecon -R "$ETC" >/dev/null 2>&1 || true
fi

# --- a Japanese font for report.pdf (collector) -------------------------------
# The collector writes the reports; Chromium prints their PDF with this host's
# fonts, and without a Japanese one every kanji prints as an empty box.
# KANSHI_SKIP_FONT=1 skips this (closed networks: install the package by hand).
font_help() {
  cat >&2 <<'EOF'
install-linux.sh: no Japanese font installed: report.pdf would print Japanese as empty boxes.
Install one, then check with: fc-list :lang=ja
  Debian / Ubuntu:        apt-get install fonts-ipaexfont-gothic
  RHEL / Rocky / Alma:    dnf install ipa-gothic-fonts   (or google-noto-sans-cjk-ttc-fonts)
Closed networks: carry the package in (apt-get install ./fonts-ipaexfont-gothic_*.deb).
See docs/report.md, "Fonts".
EOF
}
if [ "$what" = collector ]; then
  ja_font=
  if command -v fc-list >/dev/null 2>&1; then ja_font=$(fc-list ':lang=ja' family 2>/dev/null | head -1); fi
  if [ -n "$ja_font" ]; then
    say "Japanese font for report.pdf: $ja_font"
  elif [ "${KANSHI_SKIP_FONT:-}" = 1 ]; then
    say "KANSHI_SKIP_FONT=1: no Japanese font installed"
    font_help
  elif command -v apt-get >/dev/null 2>&1; then
    apt_font() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-ipaexfont-gothic >/dev/null 2>&1; }
    if apt_font || { apt-get update -qq >/dev/null 2>&1 && apt_font; }; then
      say "installed fonts-ipaexfont-gothic (IPAexGothic) for report.pdf"
    else
      font_help
    fi
  elif command -v dnf >/dev/null 2>&1; then
    if dnf install -y -q ipa-gothic-fonts >/dev/null 2>&1; then
      say "installed ipa-gothic-fonts (IPAGothic) for report.pdf"
    elif dnf install -y -q google-noto-sans-cjk-ttc-fonts >/dev/null 2>&1; then
      say "installed google-noto-sans-cjk-ttc-fonts (Noto Sans CJK JP) for report.pdf"
    else
      font_help
    fi
  else
    say "neither apt-get nor dnf here: install a Japanese font yourself"
    font_help
  fi
  chromium_found=no
  for c in "${KANSHI_CHROMIUM:-}" chromium chromium-browser google-chrome google-chrome-stable; do
    if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1; then chromium_found=yes; break; fi
  done
  [ "$chromium_found" = yes ] || say "no Chromium on PATH: reports are written without report.pdf (install chromium for PDFs; docs/report.md)"
fi

# --- systemd unit ------------------------------------------------------------
unit="$UNITDIR/kanshi-$what.service"
if [ "$sea" = yes ]; then
  sed -e "s#^ExecStart=/usr/bin/node /opt/kanshi/dist/kanshi-agent.mjs #ExecStart=$PREFIX/dist/kanshi-agent #" \
    "$src/deploy/systemd/kanshi-$what.service" > "$unit.tmp"
else
  sed -e "s#^ExecStart=/usr/bin/node #ExecStart=$node_bin #" \
    "$src/deploy/systemd/kanshi-$what.service" > "$unit.tmp"
fi
chmod 0644 "$unit.tmp"
mv "$unit.tmp" "$unit"
say "installed $unit"

if [ ! -d /run/systemd/system ]; then
  say "systemd is not running here: the unit is installed but not enabled or started"
  exit 0
fi
systemctl daemon-reload
systemctl enable "kanshi-$what.service"
say "enabled kanshi-$what (starts at boot)"

# The code of every running kanshi service was just replaced: restart them.
restarted=()
if [ "$copied" = yes ]; then
  for u in ${running[@]+"${running[@]}"}; do
    systemctl restart "$u.service" || die "$u did not restart: journalctl -u $u -n 20"
    restarted+=("$u")
    say "restarted $u (upgraded)"
  done
fi
case " ${restarted[*]+"${restarted[*]}"} " in
  *" kanshi-$what "*) ;;
  *)
    if systemctl is-active --quiet "kanshi-$what.service"; then
      say "kanshi-$what is running"
    elif [ "$fresh" = yes ]; then
      say "next: edit $conf$([ "$what" = agent ] && echo " and put the token in $env_file"), then: systemctl start kanshi-$what"
    else
      systemctl start "kanshi-$what.service" || die "kanshi-$what did not start: journalctl -u kanshi-$what -n 20"
      say "started kanshi-$what"
    fi
    ;;
esac
say "check: systemctl status kanshi-$what; journalctl -u kanshi-$what -n 20"
