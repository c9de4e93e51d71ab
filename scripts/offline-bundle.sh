#!/usr/bin/env bash
# npm run bundle:offline — release archives for closed networks (閉域網, LGWAN),
# made on a connected build machine of the same OS family, CPU and Node.js
# major version as the collector (better-sqlite3 is native code):
#
#   kanshi-<version>-linux-x64-node<major>.tar.gz   collector + agent, everything
#                                                   needed offline (node_modules)
#   kanshi-agent-<version>-windows.zip              the single-file agent, WinSW
#                                                   service definition, installer
#   *.sha256                                        checksums to verify after carrying
#
# It packs the built tree (run `npm run build` first; the npm script does) and
# installs production dependencies with `npm ci --omit=dev` in a staging copy,
# so the working tree's node_modules is never touched.
#
# Options:
#   --outdir DIR      where the archives go (default: ./release)
#   --skip-npm-ci     no node_modules (layout checks in tests); the archive name
#                     ends in -nomodules so that it is never mistaken for a release
#   --with-sea        also put the single executable dist/kanshi-agent in the
#                     tarball (npm run build:sea first; adds ~100 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)

outdir=$root/release
skip_ci=no
with_sea=no
while [ $# -gt 0 ]; do
  case "$1" in
    --outdir) outdir=$2; shift 2 ;;
    --outdir=*) outdir=${1#--outdir=}; shift ;;
    --skip-npm-ci) skip_ci=yes; shift ;;
    --with-sea) with_sea=yes; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "offline-bundle.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd -P)

die() { echo "offline-bundle.sh: $*" >&2; exit 1; }
for f in dist/collector/main.js dist/agent/main.js dist/kanshi-agent.mjs; do
  [ -f "$f" ] || die "$f is missing: run npm run build first"
done
[ "$with_sea" = no ] || [ -f dist/kanshi-agent ] || die "dist/kanshi-agent is missing: run npm run build:sea first"

version=$(node -p 'require("./package.json").version')
# A stale dist/ (built from another version) must not be shipped under this name.
for prog in dist/kanshi-agent.mjs dist/collector/main.js; do
  built=$(node "$prog" --version) || die "$prog --version failed"
  [ "$built" = "$version" ] || die "$prog says version $built but package.json says $version: run npm run build"
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
platform=$(node -p 'process.platform + "-" + process.arch')
name=kanshi-$version
suffix=$([ "$skip_ci" = yes ] && echo -nomodules || true)
tarball=$outdir/$name-$platform-node$node_major$suffix.tar.gz
zipfile=$outdir/kanshi-agent-$version-windows.zip

stage=$(mktemp -d "${TMPDIR:-/tmp}/kanshi-bundle.XXXXXX")
trap 'rm -rf "$stage"' EXIT
dest=$stage/$name
mkdir -p "$dest"

# The program. dist/ without the single executable and build leftovers.
tar -C "$root" --exclude='dist/kanshi-agent' --exclude='dist/kanshi-agent.exe' --exclude='dist/sea-work' \
  -cf - dist | tar -C "$dest" -xf -
[ "$with_sea" = no ] || cp dist/kanshi-agent "$dest/dist/"
for item in bin package.json package-lock.json deploy docs alert-rules dashboards examples README.md README.ja.md; do
  [ -e "$item" ] && cp -R "$item" "$dest/"
done
chmod 0755 "$dest/deploy/install-linux.sh" "$dest/dist/kanshi-agent.mjs"

if [ "$skip_ci" = no ]; then
  echo "offline-bundle.sh: npm ci --omit=dev in $dest (better-sqlite3 may compile: ~2 min)"
  (cd "$dest" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
  # The one native module must load with this node, or the archive is useless on the collector.
  (cd "$dest" && node -e 'const D = require("better-sqlite3"); new D(":memory:").prepare("select 1").get()') \
    || die "better-sqlite3 does not load in the staged tree"
else
  echo "offline-bundle.sh: --skip-npm-ci: no node_modules in the archive (not for installing)"
fi

# A manifest for the operator who receives the media.
{
  echo "kanshi $version"
  echo "built:    $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm)"
  echo "node:     $(node --version) ($platform); the collector needs Node.js $node_major.x on the same platform"
  echo "agent:    dist/kanshi-agent.mjs runs on any Node.js 20+ (Linux, Windows), no node_modules needed"
  echo "install:  docs/deploy-linux.md, docs/deploy-windows.md; operate: docs/operations.md (日本語: docs/operations.ja.md)"
} > "$dest/MANIFEST.txt"

tar -C "$stage" --owner=0 --group=0 -czf "$tarball" "$name"
(cd "$outdir" && sha256sum "$(basename "$tarball")" > "$(basename "$tarball").sha256")
echo "offline-bundle.sh: $tarball ($(stat -c %s "$tarball") bytes)"

# Windows agent: no node_modules, no dist/ tree: the one-file agent and its service files.
win=$stage/kanshi-agent-$version-windows
mkdir -p "$win"
cp dist/kanshi-agent.mjs deploy/windows/kanshi-agent.xml deploy/windows/install-agent.ps1 "$win/"
cp docs/deploy-windows.md docs/configuration.md examples/agent.yaml "$win/"
[ -f docs/upgrade.md ] && cp docs/upgrade.md "$win/"
[ -f docs/operations.md ] && cp docs/operations.md "$win/"
[ -f docs/operations.ja.md ] && cp docs/operations.ja.md "$win/"
printf 'kanshi agent %s for Windows\r\nRead deploy-windows.md. Needed besides these files: Node.js 20+ x64 .msi and WinSW-x64.exe (2.x).\r\n' "$version" > "$win/README.txt"
rm -f "$zipfile"
if command -v zip >/dev/null 2>&1; then
  (cd "$stage" && zip -qr -X "$zipfile" "$(basename "$win")")
else
  python3 -c 'import shutil,sys; shutil.make_archive(sys.argv[1][:-4], "zip", sys.argv[2], sys.argv[3])' "$zipfile" "$stage" "$(basename "$win")"
fi
(cd "$outdir" && sha256sum "$(basename "$zipfile")" > "$(basename "$zipfile").sha256")
echo "offline-bundle.sh: $zipfile ($(stat -c %s "$zipfile") bytes)"
