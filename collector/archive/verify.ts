// archive verify: check every day from the files and the public key alone (no database): each
// manifest's signature, the day chain (each manifest names the day before and its last hash), the
// file's digest, every record's hash, number and link, and the signed head witness of the newest
// day (so a cut of the open day shows too). The first fault is named.

import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { KeyObject } from 'node:crypto'
import { decodeManifest, decodeSigned, type Head, type Manifest } from './manifest.js'
import { DAY_FILE, GENESIS, dayFile, manifestFile, parseLine, sha256 } from './record.js'
import { readDayBytes } from './day-file.js'
import { HEAD_FILE, PRUNED_FILE } from './writer.js'

export interface VerifyResult {
  days: number
  records: number
  /** the open day (no manifest yet: its chain is checked, its end cannot be) */
  open?: string
  /** the first fault: the file, the record number if one is to blame, and what is wrong */
  fault?: { file: string, record?: number, message: string }
}

class Fault extends Error {
  constructor (readonly file: string, message: string, readonly record?: number) { super(message) }
}

/** verifyArchive checks the days from..to (inclusive, YYYY-MM-DD; all when unset). */
export function verifyArchive (dir: string, pub: KeyObject, from = '0000-00-00', to = '9999-99-99'): VerifyResult {
  const res: VerifyResult = { days: 0, records: 0 }
  try {
    if (!existsSync(dir)) throw new Fault(dir, 'there is no archive directory')
    const names = new Set(readdirSync(dir))
    const days = [...new Set([...names].map(f => DAY_FILE.exec(f)?.[1] ?? /^(\d{4}-\d{2}-\d{2})\.manifest$/.exec(f)?.[1]).filter((d): d is string => d !== undefined))].sort()
    // Where the chain stood before the oldest day kept: genesis, or the last day retention deleted.
    let prev: { day: string | null, hash: string } = { day: null, hash: GENESIS }
    if (names.has(PRUNED_FILE)) {
      const p = decodeManifest(readFileSync(join(dir, PRUNED_FILE), 'utf8'), pub)
      if (typeof p === 'string') throw new Fault(join(dir, PRUNED_FILE), p)
      prev = { day: p.day, hash: p.lastHash }
    }
    let head: Head | undefined
    if (names.has(HEAD_FILE)) {
      const h = decodeSigned<Head>(readFileSync(join(dir, HEAD_FILE), 'utf8'), pub, 'head witness')
      if (typeof h === 'string') throw new Fault(join(dir, HEAD_FILE), h)
      if (!names.has(dayFile(h.day))) throw new Fault(join(dir, dayFile(h.day)), `day ${h.day} is missing: the signed head witness names it with ${h.records} records (the newest day removed)`)
      head = h
    }
    for (const [i, day] of days.entries()) {
      const newest = i === days.length - 1
      const mfile = join(dir, manifestFile(day))
      const m = names.has(manifestFile(day)) ? manifest(mfile, pub) : undefined
      if (m === undefined && !newest) throw new Fault(mfile, `day ${day} has no manifest, yet a later day exists (manifest removed, or the day never closed)`)
      if (!names.has(dayFile(day))) throw new Fault(join(dir, dayFile(day)), `day ${day}: its file is missing (its manifest exists)`)
      if (m !== undefined && (m.prevDay !== prev.day || m.prevHash !== prev.hash)) {
        const missing = m.prevDay !== prev.day && m.prevDay !== null && (prev.day === null || m.prevDay > prev.day)
        throw new Fault(mfile, missing
          ? `day ${m.prevDay} is missing: the manifest of ${day} names it as the day before, the archive holds ${prev.day ?? 'no day'} before ${day}`
          : `day ${day} does not follow ${prev.day ?? 'the start of the archive'} (its manifest names ${m.prevDay ?? 'none'} ending ${m.prevHash.slice(0, 12)}…, the archive has ${prev.hash.slice(0, 12)}…)`)
      }
      const inRange = day >= from && day <= to
      if (!inRange && m !== undefined) { prev = { day, hash: m.lastHash }; continue }
      if (day > to) break
      const last = checkDay(join(dir, dayFile(day)), m, prev.hash, res, head?.day === day ? head : undefined)
      res.days++
      if (m === undefined) res.open = day
      prev = { day, hash: last }
    }
  } catch (err) {
    if (!(err instanceof Fault)) throw err
    res.fault = { file: err.file, message: err.message, ...(err.record !== undefined ? { record: err.record } : {}) }
  }
  return res
}

function manifest (file: string, pub: KeyObject): Manifest {
  const m = decodeManifest(readFileSync(file, 'utf8'), pub)
  if (typeof m === 'string') throw new Fault(file, m)
  return m
}

/** checkDay checks one day's records against the chain (and its manifest when closed); it returns the last hash. */
function checkDay (file: string, m: Manifest | undefined, prevHash: string, res: VerifyResult, head: Head | undefined): string {
  const buf = readFileSync(file)
  const text = readDayBytes(buf)
  let hash = prevHash
  for (const [i, l] of text.lines.entries()) {
    const want = i + 1
    const p = parseLine(l)
    if (typeof p === 'string') throw new Fault(file, `${p} (edited)`, want)
    if (sha256(p.json) !== p.hash) throw new Fault(file, 'its content does not match its hash (edited)', want)
    if (p.body.n !== want) {
      throw new Fault(file, p.body.n > want
        ? `missing or out of place: record ${p.body.n} stands in its place (removed or reordered)`
        : `record ${p.body.n} stands in its place (reordered or repeated)`, want)
    }
    if (p.body.p !== hash) throw new Fault(file, 'it does not follow the record before it (removed, reordered or from another chain)', want)
    hash = p.hash
    res.records++
    if (head !== undefined && want === head.records && hash !== head.lastHash) throw new Fault(file, 'it differs from the signed head witness (rewritten)', want)
  }
  const whole = text.lines.length
  if (text.gzipError !== undefined || text.partial) {
    throw new Fault(file, `the file is truncated or corrupt after record ${whole}${m !== undefined ? ` of ${m.records}` : ''} (${text.gzipError ?? 'a cut line'})`, whole + 1)
  }
  if (head !== undefined && whole < head.records) throw new Fault(file, `the file holds ${whole} records, the signed head witness ${head.records} (records ${whole + 1}–${head.records} removed: truncated)`, whole + 1)
  if (m === undefined) return hash
  if (whole !== m.records) throw new Fault(file, `the file holds ${whole} records, its manifest ${m.records} (records ${whole + 1}–${m.records} removed: truncated)`, whole + 1)
  if (hash !== m.lastHash) throw new Fault(file, `the last record's hash differs from the manifest's (the end of the day was changed)`, whole)
  if (sha256(buf) !== m.sha256 || buf.length !== m.bytes) throw new Fault(file, 'the file\'s SHA-256 differs from its manifest (rewritten)')
  return hash
}
