// The one way kanshi replaces a durable file: write a temporary file, fsync it,
// rename it over the target, fsync the directory. After a crash the target
// holds the old bytes or the new ones, never a mix, and the rename is durable.

import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export interface AtomicWriteOptions {
  /** mode of a new file; default 0o600 (state files may name hosts, cursors, tokens' hashes) */
  mode?: number
  /** after the temp file is written and synced, before the rename (chown, say) */
  beforeRename?: (tmp: string) => void | Promise<void>
}

function tmpName (file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.tmp`)
}

/** writeFileAtomic replaces file with data durably (temp, fsync, rename, fsync dir). */
export async function writeFileAtomic (file: string, data: string | Uint8Array, o: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tmpName(file)
  const fh = await open(tmp, 'w', o.mode ?? 0o600)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } catch (err) {
    await fh.close()
    await rm(tmp, { force: true })
    throw err
  }
  await fh.close()
  try {
    await o.beforeRename?.(tmp)
    await rename(tmp, file)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  await syncDir(dirname(file))
}

/** writeFileAtomicSync is writeFileAtomic for the few callers that cannot await (CLI commands, a job wrapper). */
export function writeFileAtomicSync (file: string, data: string | Uint8Array, o: AtomicWriteOptions = {}): void {
  const tmp = tmpName(file)
  const fd = openSync(tmp, 'w', o.mode ?? 0o600)
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off)
    fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw err
  }
  closeSync(fd)
  try {
    const r = o.beforeRename?.(tmp)
    if (r instanceof Promise) throw new Error('writeFileAtomicSync: beforeRename must be synchronous')
    renameSync(tmp, file)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
  syncDirSync(dirname(file))
}

/** renameDurable renames and then fsyncs the directory, so the new name survives a power loss. */
export async function renameDurable (from: string, to: string): Promise<void> {
  await rename(from, to)
  await syncDir(dirname(to))
}

/**
 * syncDir makes a directory's entries (a rename, a new or deleted file) durable.
 * Windows cannot open a directory for fsync; NTFS journals metadata itself, so it is skipped there.
 */
export async function syncDir (dir: string): Promise<void> {
  if (process.platform === 'win32') return
  const fh = await open(dir, 'r')
  try { await fh.sync() } finally { await fh.close() }
}

function syncDirSync (dir: string): void {
  if (process.platform === 'win32') return
  const fd = openSync(dir, 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
}
