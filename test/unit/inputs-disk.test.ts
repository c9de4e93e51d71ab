// disk input: /proc/self/mounts parsing and mount selection on recorded bytes,
// df-style numbers, statfs failures and hangs (statfs injected), this machine's
// filesystems compared with df(1), and the systeminformation path.

import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DEFAULT_IGNORE_FS, DiskInput, diskFields, parseMounts, selectMounts, unescapeMount, type DiskOptions, type StatfsResult } from '../../agent/inputs/disk.js'
import { PointAccumulator } from '../../agent/inputs/input.js'
import type { Point } from '../../protocol/messages.js'
import { tmpDir } from '../helpers/tmp.js'

const fixtures = new URL('../fixtures/proc/', import.meta.url).pathname
const expected = (c: string): any => JSON.parse(readFileSync(join(fixtures, c, 'expected.json'), 'utf8'))
const errorsOf = (err: unknown): string[] => err instanceof AggregateError ? err.errors.map(e => (e as Error).message) : [String(err)]

t.test('unescapeMount', async t => {
  t.equal(unescapeMount('/mnt/my\\040disk'), '/mnt/my disk')
  t.equal(unescapeMount('/a\\011b\\012c\\134d'), '/a\tb\nc\\d')
  t.equal(unescapeMount('/mnt/共有'), '/mnt/共有', 'UTF-8 names are not escaped by the kernel')
})

t.test('parseMounts on recorded bytes', async t => {
  const raw = readFileSync(join(fixtures, 'mounts-server/proc0/self/mounts'))
  const mounts = parseMounts(raw.toString('utf8'))
  t.equal(mounts.length, 36, 'one entry per line')
  t.strictSame(mounts[5], { device: '/dev/mapper/vg0-root', mount: '/', fstype: 'ext4' })
  t.strictSame(mounts.find(m => m.fstype === 'cifs'), { device: '//fileserver/共有', mount: '/mnt/smb', fstype: 'cifs' })
  t.ok(mounts.some(m => m.mount === '/mnt/backup disk'), '\\040 decoded')
  const real = parseMounts(readFileSync(join(fixtures, 'debian12-vm/proc0/self/mounts'), 'utf8'))
  t.strictSame(real.find(m => m.mount === '/'), { device: '/dev/vda', mount: '/', fstype: 'ext4' })
})

t.test('mount selection per case and options (expected.json "selections")', async t => {
  const cases = readdirSync(fixtures).filter(c => existsSync(join(fixtures, c, 'expected.json')) && expected(c).selections !== undefined)
  t.strictSame(cases, ['debian12-vm', 'mounts-server'])
  for (const c of cases) {
    const mounts = parseMounts(readFileSync(join(fixtures, c, 'proc0/self/mounts'), 'utf8'))
    for (const s of expected(c).selections as Array<{ options: DiskOptions, mounts: string[][] }>) {
      t.strictSame(selectMounts(mounts, s.options).map(m => [m.mount, m.fstype]), s.mounts, `${c} ${JSON.stringify(s.options)}`)
    }
  }
})

t.test('ignoreMounts: globs on the whole path, plain entries as path prefixes', async t => {
  const m = (mount: string): { device: string, mount: string, fstype: string } => ({ device: `/dev/${mount.length}${mount}`, mount, fstype: 'ext4' })
  const mounts = ['/', '/var', '/var/lib/docker', '/var/lib/docker2', '/var/lib/docker/volumes/x', '/media/usb0', 'C:'].map(m)
  const pick = (ignoreMounts: string[]): string[] => selectMounts(mounts, { ignoreMounts }).map(x => x.mount)
  t.strictSame(pick(['/var/lib/docker']), ['/', '/var', '/var/lib/docker2', '/media/usb0', 'C:'], 'a prefix ends at a path boundary')
  t.strictSame(pick(['/media/*', 'C?']), ['/', '/var', '/var/lib/docker', '/var/lib/docker2', '/var/lib/docker/volumes/x'])
})

t.test('diskFields follows df: used% of what users can fill', async t => {
  // 1000 blocks of 4096 bytes, 400 free, 300 of them available to non-root: used 600, used% 600 / (600 + 300)
  t.strictSame(diskFields(1000, 400, 300, 4096), { used_percent: 66.67, used_bytes: 2457600, free_bytes: 1228800, total_bytes: 4096000 })
  t.strictSame(diskFields(0, 0, 0, 4096), { used_percent: 0, used_bytes: 0, free_bytes: 0, total_bytes: 0 })
})

/** fakeStatfs answers from the case's table: numbers, an error, or a promise that never settles. */
function fakeStatfs (table: Record<string, number[] | string>, calls: Map<string, number>): (p: string) => Promise<StatfsResult> {
  return async p => {
    calls.set(p, (calls.get(p) ?? 0) + 1)
    const v = table[p]
    if (v === 'hang') return await new Promise<never>(() => {})
    if (v === undefined || typeof v === 'string') throw Object.assign(new Error(`ENOENT: no such file or directory, statfs '${p}'`), { code: 'ENOENT' })
    const [blocks, bfree, bavail, bsize] = v as [number, number, number, number]
    return { blocks, bfree, bavail, bsize }
  }
}

async function procWithMounts (t: Test, mounts: string): Promise<string> {
  const root = await tmpDir(t)
  await mkdir(join(root, 'self'))
  await writeFile(join(root, 'self/mounts'), mounts)
  return root
}

async function gather (d: DiskInput): Promise<{ points: Point[], errors: string[] }> {
  const acc = new PointAccumulator(0)
  let errors: string[] = []
  try { await d.gather(acc) } catch (err) { errors = errorsOf(err) }
  return { points: acc.points, errors }
}

t.test('mounts-server: failed and hung statfs are reported, the rest counted', async t => {
  const c = expected('mounts-server')
  const calls = new Map<string, number>()
  const d = new DiskInput({}, join(fixtures, 'mounts-server/proc0'), 'linux', 50, fakeStatfs(c.statfs, calls))
  for (const [i, g] of (c.gathers as Array<{ errors: string[], points: unknown[] }>).entries()) {
    const started = Date.now()
    const r = await gather(d)
    t.ok(Date.now() - started < 1000, `gather ${i} bounded by the timeout`)
    t.strictSame(r.points.map(p => ({ m: p.m, tags: p.tags, f: p.f })), g.points, `gather ${i}: points`)
    t.equal(r.errors.length, g.errors.length, `gather ${i}: ${r.errors.join(' | ')}`)
    for (const mount of g.errors) t.ok(r.errors.some(e => e.includes(mount)), `gather ${i}: error names ${mount}`)
  }
  t.equal(calls.get('/mnt/nas'), 1, 'a hung mount is not asked again while its call hangs')
  t.equal(calls.get('/mnt/smb'), 1, 'skipped behind the hung NFS mount once, asked the next time')
})

t.test('at most two hung statfs calls: then network filesystems are not asked', async t => {
  const root = await procWithMounts(t, '/dev/vda1 / ext4 rw 0 0\nnas1:/a /mnt/a nfs4 rw 0 0\nnas2:/b /mnt/b nfs rw 0 0\nnas3:/c /mnt/c nfs4 rw 0 0\n')
  const calls = new Map<string, number>()
  const d = new DiskInput({}, root, 'linux', 30, fakeStatfs({ '/': [100, 50, 50, 4096], '/mnt/a': 'hang', '/mnt/b': 'hang', '/mnt/c': 'hang' }, calls))
  for (let i = 0; i < 4; i++) {
    const r = await gather(d)
    t.strictSame(r.points.map(p => p.tags?.['mount']), ['/'], `gather ${i}: the local disk is still reported`)
    t.ok(r.errors.some(e => /mnt\/c/.test(e)), `gather ${i}: /mnt/c reported as not measured`)
  }
  t.strictSame(Object.fromEntries(calls), { '/': 4, '/mnt/a': 1, '/mnt/b': 1 }, 'one call each to two hung mounts, none to the third')
})

t.test('a hung statfs that finally answers is asked again', async t => {
  const root = await procWithMounts(t, 'nas1:/a /mnt/a nfs4 rw 0 0\n')
  let release: (r: StatfsResult) => void = () => {}
  let n = 0
  const d = new DiskInput({}, root, 'linux', 30, async () => {
    n++
    return n === 1 ? await new Promise<StatfsResult>(resolve => { release = resolve }) : { blocks: 10, bfree: 5, bavail: 5, bsize: 1024 }
  })
  t.match((await gather(d)).errors, [/statfs \/mnt\/a timed out after 30 ms/])
  t.match((await gather(d)).errors, [/still hung/])
  release({ blocks: 10, bfree: 5, bavail: 5, bsize: 1024 })
  await new Promise(resolve => setImmediate(resolve))
  const r = await gather(d)
  t.strictSame(r.errors, [])
  t.strictSame(r.points.map(p => p.f['used_bytes']), [5120])
  t.equal(n, 2)
})

t.test('a real statfs that fails (mount point gone) is reported; the other mounts still counted', async t => {
  const root = await procWithMounts(t, '/dev/root / ext4 rw 0 0\n/dev/gone /nonexistent/kanshi\\040test ext4 rw 0 0\n')
  const r = await gather(new DiskInput({}, root, 'linux'))
  t.strictSame(r.points.map(p => p.tags?.['mount']), ['/'])
  t.match(r.errors, [/ENOENT.*\/nonexistent\/kanshi test/])
})

/** df reads the same statfs numbers through an independent program: size, used and avail in bytes. */
function df (path: string): { target: string, size: number, used: number, avail: number } {
  const out = spawnSync('df', ['-B1', '--output=target,size,used,avail', path], { encoding: 'utf8' })
  const f = out.stdout.trim().split('\n')[1]!.trim().split(/\s+/)
  return { target: f[0]!, size: Number(f[1]), used: Number(f[2]), avail: Number(f[3]) }
}

/** fstypeAt finds the type of the filesystem visibly mounted at a path (the last line for it wins). */
function fstypeAt (target: string): string | undefined {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').map(l => l.split(' ')).filter(f => unescapeMount(f[1] ?? '') === target).pop()?.[2]
}

t.test('this machine: real filesystems reported as df sees them', async t => {
  const r = await gather(new DiskInput())
  t.strictSame(r.errors, [], 'no statfs errors')
  t.ok(r.points.length >= 1 && r.points.every(p => (p.f['total_bytes'] as number) > 0), `${r.points.length} filesystems with space`)
  t.ok(r.points.every(p => !DEFAULT_IGNORE_FS.includes(p.tags?.['fstype'] ?? '')), 'no pseudo filesystems')
  for (const path of ['/', process.cwd()]) {
    const want = df(path)
    const type = fstypeAt(want.target)
    if (type === undefined || DEFAULT_IGNORE_FS.includes(type)) { t.comment(`${want.target} is ${type}, not reported`); continue }
    const p = r.points.find(x => x.tags?.['mount'] === want.target)
    t.ok(p !== undefined, `${path} lives on ${want.target} (${type}), reported`)
    if (p === undefined) continue
    t.equal(p.f['total_bytes'], want.size, `${want.target}: total equals df's size`)
    // df ran a moment later: allow for files written in between.
    t.ok(Math.abs((p.f['used_bytes'] as number) - want.used) < want.size * 0.01, `${want.target}: used ${p.f['used_bytes']} ≈ df ${want.used}`)
    t.ok(Math.abs((p.f['free_bytes'] as number) - want.avail) < want.size * 0.01, `${want.target}: free ${p.f['free_bytes']} ≈ df avail ${want.avail}`)
  }
})

t.test('the systeminformation path (Windows Server and others), run on this machine', async t => {
  const proc = await gather(new DiskInput({}, '/proc', 'linux'))
  const si = await gather(new DiskInput({}, '/proc', 'win32'))
  t.strictSame(si.errors, [])
  t.ok(si.points.length >= 1 && si.points.every(p => (p.f['total_bytes'] as number) > 0), `${si.points.length} filesystems`)
  t.ok(si.points.every(p => !DEFAULT_IGNORE_FS.includes(p.tags?.['fstype'] ?? '')), 'pseudo filesystems filtered there too')
  const root = proc.points.find(p => p.tags?.['mount'] === '/')
  if (root === undefined) { t.comment('/ is not a real filesystem here'); return }
  const siRoot = si.points.find(p => p.tags?.['mount'] === '/')
  t.equal(siRoot?.f['total_bytes'], root.f['total_bytes'], '/ has the same size both ways')
  t.ok(Math.abs((siRoot?.f['used_percent'] as number) - (root.f['used_percent'] as number)) < 1, 'and about the same used %')
})

