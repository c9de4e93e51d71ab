// npm run build (after tsc): the agent as one file, dist/kanshi-agent.mjs, that
// runs with `node kanshi-agent.mjs` and needs no node_modules on the host.
// `--sea` also makes a Node single executable (node itself with the agent inside).
//
//   node dist/scripts/bundle.js [--outdir DIR] [--sea [--node PATH_OF_TARGET_NODE]]

import { build, type BuildOptions } from 'esbuild'
import { spawnSync } from 'node:child_process'
import { copyFileSync, chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { lazyPackages } from './bundle-lazy.js'

const root = resolve(import.meta.dirname, '..', '..')

// The fuse string Node's official binaries carry for postject (Node 20–24).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'

const common: BuildOptions = {
  entryPoints: [join(root, 'agent', 'main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  // ws probes for the optional add-ons bufferutil and utf-8-validate, never installed with the
  // agent; in a single executable a require() of anything but a built-in prints a warning.
  define: {
    'process.env.WS_NO_BUFFER_UTIL': '"1"',
    'process.env.WS_NO_UTF_8_VALIDATE': '"1"'
  },
  legalComments: 'none',
  // Whitespace and syntax only (identifiers stay for stack traces): V8 keeps the
  // script's whole source for the life of the agent, so its size is RSS.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning'
}
// systeminformation and iconv-lite travel compressed inside the file and are
// compiled on their first import() (scripts/bundle-lazy.ts).
common.plugins = [lazyPackages({ resolveDir: root, base: common, transform: escapeNonAscii })]

// CommonJS dependencies (pino, ws, systeminformation) call require() for
// built-ins; an ES module has no require, so the banner makes one.
const ESM_BANNER = [
  "import { createRequire as __kanshiCreateRequire } from 'node:module';",
  "import { fileURLToPath as __kanshiFileURLToPath } from 'node:url';",
  'const require = __kanshiCreateRequire(import.meta.url);',
  'const __filename = __kanshiFileURLToPath(import.meta.url);',
  "const __dirname = __kanshiFileURLToPath(new URL('.', import.meta.url));"
].join(' ')

/**
 * asciiOnly rewrites every non-ASCII UTF-16 unit as a \uXXXX escape: one such
 * character left in a regex literal makes V8 hold the whole script as a
 * two-byte string. \uXXXX means the same in strings, regexes and identifiers.
 */
function asciiOnly (file: string): void {
  const src = readFileSync(file, 'utf8')
  const ascii = escapeNonAscii(src)
  if (ascii !== src) writeFileSync(file, ascii)
}

/** escapeNonAscii is asciiOnly for a string (also each lazily compiled part). */
function escapeNonAscii (src: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(src) ? src.replace(/[^\x00-\x7f]/g, c => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) : src
}

/** bundleAgent writes DIR/kanshi-agent.mjs and returns its path. */
async function bundleAgent (outdir: string): Promise<string> {
  const outfile = join(outdir, 'kanshi-agent.mjs')
  await build({ ...common, format: 'esm', outfile, banner: { js: `#!/usr/bin/env node\n${ESM_BANNER}` } })
  asciiOnly(outfile)
  chmodSync(outfile, 0o755)
  return outfile
}

/**
 * buildSea writes a single executable: the agent bundled again as CommonJS (what Node SEA runs),
 * injected with postject into a copy of the target node (a nodejs.org node.exe makes a Windows one).
 */
async function buildSea (outdir: string, targetNode: string): Promise<string> {
  const work = join(outdir, 'sea-work')
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  const script = join(work, 'kanshi-agent.cjs')
  await build({ ...common, format: 'cjs', outfile: script })
  const blob = join(work, 'kanshi-agent.blob')
  const seaConfig = join(work, 'sea-config.json')
  writeFileSync(seaConfig, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false }))
  run(process.execPath, ['--experimental-sea-config', seaConfig])
  const windows = basename(targetNode).toLowerCase().endsWith('.exe')
  const target = join(outdir, windows ? 'kanshi-agent.exe' : 'kanshi-agent')
  rmSync(target, { force: true })
  copyFileSync(targetNode, target)
  chmodSync(target, 0o755)
  const postject = join(root, 'node_modules', 'postject', 'dist', 'cli.js')
  const args = [postject, target, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]
  run(process.execPath, args)
  rmSync(work, { recursive: true, force: true })
  return target
}

function run (cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${basename(cmd)} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`)
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { outdir: { type: 'string' }, sea: { type: 'boolean' }, node: { type: 'string' } } })
  const outdir = resolve(values.outdir ?? join(root, 'dist'))
  mkdirSync(outdir, { recursive: true })
  const started = Date.now()
  const mjs = await bundleAgent(outdir)
  console.log(`bundle: ${mjs} (${statSync(mjs).size} bytes, ${Date.now() - started} ms)`)
  if (values.sea === true) {
    const exe = await buildSea(outdir, resolve(values.node ?? process.execPath))
    console.log(`bundle: ${exe} (single executable, ${statSync(exe).size} bytes)`)
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  await main()
}
