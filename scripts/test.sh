#!/usr/bin/env bash
# The README's test command, and what CI runs: installs what the tests need on
# a fresh Debian machine, builds, type-checks, lints and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n==> %s\n' "$*"; }

section "system packages"
need=()
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
command -v victoria-metrics >/dev/null 2>&1 || need+=(victoria-metrics)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# strace: the WAL durability test checks the order of fsync, rename and unlink (test/durability/wal-fsync-order.test.ts).
command -v strace >/dev/null 2>&1 || need+=(strace)
# libfaketime: the reliability suite steps the agent's wall clock (test/durability/reliability-agent.test.ts).
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || need+=(faketime)
# chromium: the report's PDF and the console's browser tests (playwright-core drives /usr/bin/chromium).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# A Japanese font for the report's PDF (without one Chromium prints boxes): IPAexGothic, 6 MB installed,
# embeds as a named TrueType font (fonts-noto-cjk is 91 MB and prints as unnamed Type 3 fonts).
[ -e /usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf ] || need+=(fonts-ipaexfont-gothic)
# poppler-utils: pdffonts, pdftotext and pdftoppm read the printed PDF back (test/integration/report*.test.ts).
command -v pdffonts >/dev/null 2>&1 || need+=(poppler-utils)
# node_exporter: the reference the agent is measured against in the benchmarks' smoke run.
command -v prometheus-node-exporter >/dev/null 2>&1 || need+=(prometheus-node-exporter)
# systemd-journal-remote writes real journal files that the journald log source's tests read with journalctl.
[ -x /lib/systemd/systemd-journal-remote ] || need+=(systemd-journal-remote)
# snmpd and snmp (snmptrap, snmpget, snmpset): the SNMP poll and trap tests talk to a real Net-SNMP agent
# (test/helpers/snmpd.ts); iputils-ping and iproute2: the ping check's tests ping a network namespace.
command -v snmpd >/dev/null 2>&1 || need+=(snmpd)
command -v snmptrap >/dev/null 2>&1 || need+=(snmp)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# monitoring-plugins-basic: check_tcp, check_disk, check_http run as real command checks (test/integration/command-checks.test.ts).
[ -x /usr/lib/nagios/plugins/check_tcp ] || need+=(monitoring-plugins-basic)
# postgresql: the cluster tests start a private server per file (test/helpers/postgres.ts: initdb, pg_ctl).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${need[*]} — install them (as root: apt-get install -y ${need[*]}) and run again" >&2
    exit 1
  fi
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the packages' own services (influxdb, prometheus) from starting on install:
  # the tests start private instances on free ports.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi
echo "influxd: $(influxd version 2>/dev/null | head -1)"
echo "victoria-metrics: $(victoria-metrics --version 2>/dev/null | head -1)"
echo "promtool: $(promtool --version 2>&1 | head -1)"
echo "chromium: $(chromium --version 2>/dev/null | head -1)"

section "npm ci"
npm ci --no-audit --no-fund

section "build (tsc → dist/)"
npx tsc -p tsconfig.json
# The single-file agent (dist/kanshi-agent.mjs), as npm run build makes it.
node dist/scripts/bundle.js

section "type-check tests"
npx tsc -p tsconfig.test.json

section "lint"
npx eslint .

section "tests"
# Integration and durability tests start real processes; two at a time fits a 2-core machine.
log=$(mktemp)
set +e
npx tap --disable-coverage --jobs=2 --timeout=300 --reporter=tap \
  'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts' 'test/durability/**/*.test.ts' | tee "$log"
status=${PIPESTATUS[0]}
set -e
# The closing line CI reads: "N passed, N failed" from tap's own totals.
summary=$(grep -E '^# \{ total: [0-9]+' "$log" | tail -1)
pass=$(printf '%s' "$summary" | grep -oE 'pass: [0-9]+' | grep -oE '[0-9]+' || echo 0)
fail=$(printf '%s' "$summary" | grep -oE 'fail: [0-9]+' | grep -oE '[0-9]+' || echo 0)
skip=$(printf '%s' "$summary" | grep -oE 'skip: [0-9]+' | grep -oE '[0-9]+' || echo 0)
# What failed, once more at the end where a CI log's tail shows it: each failed assertion with its
# diagnostics, then the subtests around it (names only) and the file (with its exit code or signal).
if [ "$fail" != 0 ]; then
  echo "failed:"
  awk 'match($0, /^ *not ok /) { ind = RSTART + RLENGTH - 8; print; show = ($0 !~ /# time=/ || ind == 0); next }
       show && substr($0, 1, ind + 2) == sprintf("%*s", ind + 2, "") { print; next }
       { show = 0 }' "$log" | head -400 || true
fi
rm -f "$log"
if [ "$pass" = 0 ] && [ "$status" = 0 ]; then echo "no test ran" >&2; exit 1; fi
printf 'tests: %s passed, %s failed, %s skipped\n' "$pass" "$fail" "$skip"
exit "$status"
