// disk: space on every real mounted filesystem (pseudo ones skipped by default),
// from /proc/self/mounts + statfs on Linux, systeminformation's fsSize elsewhere.
// A hung statfs (stale NFS) is bounded, reported and kept from piling up.

import { statfs } from 'node:fs/promises'
import type { Accumulator, Input } from './input.js'
import { globMatch, readProc, useProc } from './proc.js'

/** DEFAULT_IGNORE_FS are the filesystem types that hold no disk space worth watching. */
export const DEFAULT_IGNORE_FS: readonly string[] = [
  'tmpfs', 'devtmpfs', 'overlay', 'squashfs', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue', 'debugfs',
  'tracefs', 'securityfs', 'pstore', 'bpf', 'autofs', 'fusectl', 'configfs', 'hugetlbfs', 'binfmt_misc', 'nsfs',
  'ramfs', 'rpc_pipefs', 'efivarfs', 'iso9660', 'udf', 'selinuxfs', 'nfsd', 'fuse.lxcfs', 'fuse.gvfsd-fuse',
  'fuse.portal', 'fuse.snapfuse'
]

/** Network filesystems: the ones whose statfs can hang for minutes when the server is gone. */
const NETWORK_FS = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', '9p', 'ceph', 'glusterfs', 'fuse.glusterfs', 'fuse.sshfs', 'lustre', 'afs', 'davfs', 'fuse.s3fs'])

/** MAX_HUNG stuck statfs calls stop network filesystems being asked: each holds one of libuv's 4 threads. */
const MAX_HUNG = 2

/** DiskOptions (agent.yaml inputs.disk, documented in docs/configuration.md); each default is shown. */
export interface DiskOptions {
  /** ignoreFs: filesystem types to skip; replaces the default list. Default DEFAULT_IGNORE_FS. */
  ignoreFs?: readonly string[]
  /** includeFs: if set, only these filesystem types (pseudo ones too, e.g. ['tmpfs'] for /dev/shm), less any listed in ignoreFs. Default unset. */
  includeFs?: readonly string[]
  /** ignoreMounts: mounts to skip, each a glob (* and ?) on the whole path or a path prefix ('/var/lib/docker' skips it and everything below). Default unset. */
  ignoreMounts?: readonly string[]
}

export interface Mount { device: string, mount: string, fstype: string }

/** unescapeMount decodes the octal escapes of /proc/self/mounts (\040 space, \011 tab, \012 newline, \134 backslash). */
export function unescapeMount (s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))
}

/** parseMounts reads /proc/self/mounts (fstab format: fields split by single spaces, blanks inside a field escaped). */
export function parseMounts (text: string): Mount[] {
  const out: Mount[] = []
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    if (f.length < 3 || f[1] === '') continue
    out.push({ device: unescapeMount(f[0]!), mount: unescapeMount(f[1]!), fstype: f[2]! })
  }
  return out
}

/** fsTypeFilter tells whether a filesystem type is reported under the options. */
function fsTypeFilter (o: DiskOptions = {}): (fstype: string) => boolean {
  if (o.includeFs !== undefined) {
    const include = new Set(o.includeFs)
    const ignore = new Set(o.ignoreFs ?? [])
    return t => include.has(t) && !ignore.has(t)
  }
  const ignore = new Set(o.ignoreFs ?? DEFAULT_IGNORE_FS)
  return t => !ignore.has(t)
}

/** mountIgnored tells whether a mount path matches ignoreMounts (a glob on the whole path, or a path prefix). */
function mountIgnored (mount: string, patterns: readonly string[] = []): boolean {
  if (patterns.length === 0) return false
  if (globMatch(mount, patterns)) return true
  return patterns.some(p => !/[*?]/.test(p) && mount.startsWith(p.endsWith('/') ? p : p + '/'))
}

/**
 * selectMounts keeps the mounts to report, in order: the visible mount at each path, no pseudo or
 * ignored ones, and one (the shortest path) per device or share source (containing '/'), so a bind
 * mount is not counted twice; every tmpfs is its own filesystem.
 */
export function selectMounts (mounts: readonly Mount[], o: DiskOptions = {}): Mount[] {
  const keepType = fsTypeFilter(o)
  const visible = new Map<string, Mount>()
  for (const m of mounts) visible.set(m.mount, m)
  const candidates = mounts.filter(m => visible.get(m.mount) === m && keepType(m.fstype) && !mountIgnored(m.mount, o.ignoreMounts))
  const key = (m: Mount): string => m.device.includes('/') ? `dev:${m.device}` : `path:${m.mount}`
  const best = new Map<string, Mount>()
  for (const m of candidates) {
    const prev = best.get(key(m))
    if (prev === undefined || m.mount.length < prev.mount.length) best.set(key(m), m)
  }
  return candidates.filter(m => best.get(key(m)) === m)
}

/** diskFields computes the disk fields from statfs numbers, as df does. */
export function diskFields (blocks: number, bfree: number, bavail: number, bsize: number): Record<string, number> {
  const total = blocks * bsize
  const used = (blocks - bfree) * bsize
  const free = bavail * bsize
  // Like df: percent of what non-root users can fill (used + available), not of the raw size,
  // so 100 % means "full" even with the root reserve left.
  return { used_percent: usedPercent(used, free), used_bytes: used, free_bytes: free, total_bytes: total }
}

function usedPercent (used: number, free: number): number {
  return used + free > 0 ? Math.round(used / (used + free) * 10000) / 100 : 0
}

function isNetwork (m: Mount): boolean {
  return NETWORK_FS.has(m.fstype) || m.fstype.startsWith('nfs') || m.device.startsWith('//') || /^[^/]+:/.test(m.device)
}

export interface StatfsResult { blocks: number, bfree: number, bavail: number, bsize: number }
export type StatfsFn = (path: string) => Promise<StatfsResult>

class TimeoutError extends Error {}

function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms) })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

export class DiskInput implements Input {
  readonly name = 'disk'
  /** mounts whose statfs timed out and has not answered yet: not asked again until it does */
  private readonly hung = new Set<string>()

  constructor (
    private readonly o: DiskOptions = {},
    private readonly procRoot = '/proc',
    private readonly platform: NodeJS.Platform = process.platform,
    private readonly timeoutMs = 2000,
    private readonly statfsFn: StatfsFn = statfs
  ) {}

  async gather (acc: Accumulator): Promise<void> {
    if (!useProc(this.platform)) return await this.gatherGeneric(acc)
    const mounts = selectMounts(parseMounts(await readProc(this.procRoot, 'self/mounts')), this.o)
    const errors: Error[] = []
    const answers = new Map<Mount, StatfsResult>()
    const one = async (m: Mount): Promise<boolean> => {
      try {
        answers.set(m, await this.statfs(m.mount))
        return true
      } catch (err) {
        errors.push(err as Error)
        return !(err instanceof TimeoutError)
      }
    }
    // Local filesystems in parallel; network ones one at a time, stopping at the first
    // that hangs (a dead NAS hangs all its mounts), so they cannot fill the thread pool.
    const local = mounts.filter(m => !isNetwork(m) || this.hung.has(m.mount))
    const remote = mounts.filter(m => !local.includes(m))
    const remoteChain = async (): Promise<void> => {
      const skip = (rest: Mount[]): void => {
        if (rest.length > 0) errors.push(new Error(`statfs skipped for ${rest.map(m => m.mount).join(', ')}: hung on ${[...this.hung].join(', ')}`))
      }
      for (const [i, m] of remote.entries()) {
        if (this.hung.size >= MAX_HUNG) return skip(remote.slice(i))
        if (!await one(m)) return skip(remote.slice(i + 1))
      }
    }
    await Promise.all([...local.map(one), remoteChain()])
    for (const m of mounts) {
      const s = answers.get(m)
      // blocks 0: an empty pseudo filesystem of a type missing from the ignore list.
      if (s !== undefined && s.blocks > 0) acc.add('disk', diskFields(s.blocks, s.bfree, s.bavail, s.bsize), { mount: m.mount, fstype: m.fstype })
    }
    if (errors.length > 0) throw new AggregateError(errors, `disk: ${errors.map(e => e.message).join('; ')}`)
  }

  /** statfs asks one mount, bounded by the timeout; a call that timed out is remembered until it settles. */
  private async statfs (mount: string): Promise<StatfsResult> {
    if (this.hung.has(mount)) throw new Error(`statfs ${mount}: still hung from an earlier gather`)
    const call = this.statfsFn(mount)
    try {
      return await withTimeout(call, this.timeoutMs, `statfs ${mount}`)
    } catch (err) {
      if (err instanceof TimeoutError) {
        this.hung.add(mount)
        call.finally(() => this.hung.delete(mount)).catch(() => {})
      }
      throw err
    }
  }

  private async gatherGeneric (acc: Accumulator): Promise<void> {
    const si = await import('systeminformation') // loaded on first use: Linux never needs it
    const keepType = fsTypeFilter(this.o)
    for (const f of await si.fsSize()) {
      // Windows: mount is the drive letter ("C:"), type NTFS/ReFS/FAT32; empty card readers have size 0.
      if (!(f.size > 0) || !keepType(f.type) || mountIgnored(f.mount, this.o.ignoreMounts)) continue
      const free = Number.isFinite(f.available) ? f.available : f.size - f.used
      acc.add('disk', { used_percent: usedPercent(f.used, free), used_bytes: f.used, free_bytes: free, total_bytes: f.size }, { mount: f.mount, fstype: f.type })
    }
  }
}
