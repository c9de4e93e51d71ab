// The order of the syscalls behind a rollup checkpoint, seen by strace on the
// built collector code: the new cursor must be on disk (its temp file fsynced,
// renamed, the directory fsynced) before the checkpoint file the old cursor
// names is unlinked. Otherwise a power loss after the unlink leaves a cursor
// naming a file that is gone, and the open rollup buckets are lost.

import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = resolve(import.meta.dirname, '..', '..')
const dist = (p: string): string => pathToFileURL(join(root, 'dist', p)).href

interface Call { name: string, args: string, ret: number }

/** parseStrace turns strace -f output into completed calls, in the order they returned. */
function parseStrace (text: string): Call[] {
  const calls: Call[] = []
  const open = new Map<string, string>()
  for (const raw of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(raw)
    if (m === null) continue
    const [, pid, rest] = m as unknown as [string, string, string]
    let line = rest
    if (line.endsWith('<unfinished ...>')) { open.set(pid, line.slice(0, -'<unfinished ...>'.length)); continue }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(line)
    if (resumed !== null) { line = (open.get(pid) ?? '') + resumed[1]!; open.delete(pid) }
    const c = /^(\w+)\((.*)\)\s+=\s+(-?\d+)/.exec(line)
    if (c !== null) calls.push({ name: c[1]!, args: c[2]!, ret: Number(c[3]) })
  }
  return calls
}

const paths = (c: Call): string[] => [...c.args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(m => m[1]!)

t.test('a rollup checkpoint makes the new cursor durable before it unlinks the old checkpoint', async t => {
  t.ok(existsSync(join(root, 'dist', 'collector', 'state', 'wal', 'index.js')), 'dist/ is built (npm run build; scripts/test.sh does)')
  t.ok(spawnSync('strace', ['-V']).status === 0, 'strace is installed (scripts/test.sh installs it)')
  const dir = t.testdir()
  const wal = join(dir, 'wal')
  const script = join(dir, 'cycle.mjs')
  writeFileSync(script, `
import { Wal } from '${dist('collector/state/wal/index.js')}'
import { RollupStage } from '${dist('collector/storage/rollup-stage.js')}'
const logger = { info () {}, warn () {}, error () {}, debug () {}, fatal (o) { console.error(o) } }
const wal = await Wal.open({ dir: process.argv[2], readers: ['rollup'] })
for (let i = 0; i < 2; i++) {
  const stage = new RollupStage({ wal, reader: wal.reader('rollup'), logger })
  stage.start()
  await wal.append(Buffer.from(JSON.stringify({ a: 'h', s: i + 1, r: Date.now(), p: [{ m: 'cpu', t: Date.now(), tags: { host: 'h' }, f: { v: i } }] })))
  await new Promise(resolve => setTimeout(resolve, 50))
  await stage.stop() // writes rollup-<i>.ckpt, commits the cursor naming it, unlinks the one before
}
await wal.close()
`)
  const out = join(dir, 'strace.out')
  execFileSync('strace', ['-f', '-qq', '-s', '512', '-o', out, '-e', 'trace=openat,write,pwrite64,fsync,fdatasync,rename,renameat,renameat2,unlink,unlinkat',
    process.execPath, script, wal], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 })
  const calls = parseStrace(readFileSync(out, 'utf8'))
  const cursor = join(wal, 'cursor-rollup.json')
  const oldCkpt = join(wal, 'rollup-0.ckpt')

  const unlinkAt = calls.findIndex(c => /^unlink/.test(c.name) && paths(c).includes(oldCkpt) && c.ret === 0)
  t.ok(unlinkAt >= 0, 'the old checkpoint rollup-0.ckpt is unlinked')
  const renameAt = calls.findLastIndex((c, i) => i < unlinkAt && /^rename/.test(c.name) && paths(c).at(-1) === cursor)
  t.ok(renameAt >= 0, 'the cursor is renamed into place before that')
  const tmp = paths(calls[renameAt]!)[0]!

  // The temp file's fd, from its open to the rename: it must be fsynced in between.
  const openAt = calls.findLastIndex((c, i) => i < renameAt && c.name === 'openat' && paths(c)[0] === tmp)
  t.ok(openAt >= 0, `the cursor's temp file ${tmp} is opened`)
  const fd = calls[openAt]?.ret
  const synced = calls.slice(openAt + 1, renameAt).some(c => /^f(data)?sync$/.test(c.name) && Number(c.args) === fd)
  t.ok(synced, 'the cursor temp file is fsynced before its rename')

  // After the rename and before the unlink: the WAL directory is opened and fsynced.
  const between = calls.slice(renameAt + 1, unlinkAt)
  const dirFds = new Set(between.filter(c => c.name === 'openat' && paths(c)[0] === wal && c.ret >= 0).map(c => c.ret))
  const dirSynced = between.some(c => /^f(data)?sync$/.test(c.name) && dirFds.has(Number(c.args)))
  t.ok(dirSynced, 'the WAL directory is fsynced after the cursor rename and before the old checkpoint is unlinked')
})
