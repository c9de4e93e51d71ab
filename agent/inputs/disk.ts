// disk: every real mounted filesystem (pseudo ones skipped by default), from
// /proc/self/mounts + statfs on Linux, systeminformation's fsSize elsewhere.
// A hung statfs (stale NFS) is bounded and reported, not allowed to block.

import { statfs } from 'node:fs/promises'
import si from 'systeminformation'
import type { Accumulator, Input } from './input.js'
import { globMatch, readProc, useProc } from './proc.js'

export const DEFAULT_IGNORE_FS = [
  'tmpfs', 'devtmpfs', 'overlay', 'squashfs', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue', 'debugfs',
  'tracefs', 'securityfs', 'pstore', 'bpf', 'autofs', 'fusectl', 'configfs', 'hugetlbfs', 'binfmt_misc', 'nsfs',
  'ramfs', 'rpc_pipefs', 'efivarfs', 'iso9660', 'udf', 'fuse.lxcfs', 'fuse.gvfsd-fuse', 'fuse.portal', 'selinuxfs', 'none'
]

export interface DiskOptions { ignoreFs?: readonly string[], includeFs?: readonly string[], ignoreMounts?: readonly string[] }

export interface Mount { device: string, mount: string, fstype: string }

/** unescapeMount decodes the octal escapes of /proc/self/mounts (\040 space, \011 tab, \012 newline, \134 backslash). */
export function unescapeMount (s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))
}

export function parseMounts (text: string): Mount[] {
  const out: Mount[] = []
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    if (f.length < 3) continue
    out.push({ device: unescapeMount(f[0]!), mount: unescapeMount(f[1]!), fstype: f[2]! })
  }
  return out
}

/**
 * selectMounts keeps real filesystems: pseudo types dropped (unless included),
 * ignored mounts dropped, and one mount per device (bind mounts and the same
 * device mounted twice would count its space twice): the shortest path wins.
 */
export function selectMounts (mounts: Mount[], o: DiskOptions = {}): Mount[] {
  const ignoreFs = new Set(o.ignoreFs ?? DEFAULT_IGNORE_FS)
  const include = o.includeFs === undefined ? undefined : new Set(o.includeFs)
  const byDevice = new Map<string, Mount>()
  for (const m of mounts) {
    if (include !== undefined ? !include.has(m.fstype) : ignoreFs.has(m.fstype)) continue
    if (o.ignoreMounts !== undefined && (globMatch(m.mount, o.ignoreMounts) || o.ignoreMounts.some(p => !p.includes('*') && m.mount.startsWith(p.endsWith('/') ? p : p + '/')))) continue
    const prev = byDevice.get(m.device)
    if (prev === undefined || m.mount.length < prev.mount.length) byDevice.set(m.device, m)
  }
  return [...byDevice.values()]
}

export function diskFields (blocks: number, bfree: number, bavail: number, bsize: number): Record<string, number> {
  const total = blocks * bsize
  const used = (blocks - bfree) * bsize
  const free = bavail * bsize
  // Like df: percent of what non-root users can use (used + available), not of the raw size.
  const pct = used + free > 0 ? Math.round(used / (used + free) * 10000) / 100 : 0
  return { used_percent: pct, used_bytes: used, free_bytes: free, total_bytes: total }
}

function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms) })]).finally(() => clearTimeout(timer))
}

export class DiskInput implements Input {
  readonly name = 'disk'
  /** mounts whose statfs hung: skipped until it answers, so one stale NFS mount cannot pile up calls */
  private readonly hung = new Set<string>()

  constructor (private readonly o: DiskOptions = {}, private readonly procRoot = '/proc', private readonly platform: NodeJS.Platform = process.platform, private readonly timeoutMs = 2000) {}

  async gather (acc: Accumulator): Promise<void> {
    if (!useProc(this.platform)) return await this.gatherGeneric(acc)
    const mounts = selectMounts(parseMounts(await readProc(this.procRoot, 'self/mounts')), this.o)
    const errors: Error[] = []
    await Promise.all(mounts.map(async m => {
      if (this.hung.has(m.mount)) { errors.push(new Error(`statfs ${m.mount} still hung`)); return }
      const call = statfs(m.mount)
      try {
        const s = await withTimeout(call, this.timeoutMs, `statfs ${m.mount}`)
        if (s.blocks === 0) return // empty pseudo filesystems that slipped through
        acc.add('disk', diskFields(s.blocks, s.bfree, s.bavail, s.bsize), { mount: m.mount, fstype: m.fstype })
      } catch (err) {
        if (/timed out/.test(String(err))) {
          this.hung.add(m.mount)
          call.finally(() => this.hung.delete(m.mount)).catch(() => {})
        }
        errors.push(err as Error)
      }
    }))
    if (errors.length > 0) throw new AggregateError(errors, errors.map(e => e.message).join('; '))
  }

  private async gatherGeneric (acc: Accumulator): Promise<void> {
    for (const f of await si.fsSize()) {
      if (f.size <= 0) continue
      if (this.o.ignoreMounts !== undefined && globMatch(f.mount, this.o.ignoreMounts)) continue
      const free = f.available ?? f.size - f.used
      acc.add('disk', {
        used_percent: f.used + free > 0 ? Math.round(f.used / (f.used + free) * 10000) / 100 : 0,
        used_bytes: f.used, free_bytes: free, total_bytes: f.size
      }, { mount: f.mount, fstype: f.type })
    }
  }
}
