// What one WAL record holds: a batch as accepted, with the token's identity stamped on every point.
// The collector's own records are the entry as JSON; an agent's batch is the frame it sent (not
// serialized again) behind a header: byte 0x01, JSON [agent, seq, received, role, site], a newline.
// Decoding stamps it, so both encodings decode to the same entry.

import type { Batch, LogEvent, Point } from '../../protocol/messages.js'
import { fromColumns, pointsIn, type Cols } from '../../protocol/columns.js'
import type { WalRecord } from './wal/index.js'
import { finishDevices, isDevice, stampDevice, stampDeviceEvents, type DevicePolicy, type DeviceSink } from './device-stamp.js'

export interface WalEntry {
  /** agent id; '' for points the collector writes itself (host_up) */
  a: string
  /** the agent's batch seq; 0 for the collector's own points */
  s: number
  /** receive time at the collector (ms) */
  r: number
  p: Point[]
  /** protocol 3: more points, as columns per series (protocol/columns.ts), stamped like p */
  c?: Cols[]
  e?: LogEvent[]
  /** set on the collector's 5-minute rollups: they go to the rollup retention policy / bucket */
  rollup?: true
  /** protocol 2: the agent sent this batch again after another collector had acked it (storage only, not alerting) */
  resend?: true
}

/** Who a batch is from, as the token says: stamped over whatever the agent put in its tags. */
export interface StampIdentity {
  id: string
  role: string
  site: string
  /** which devices this agent may poll (agents[].devices); none when absent */
  devices?: DevicePolicy | undefined
}

const FRAME = 0x01
const NL = 0x0a

export function encodeEntry (e: WalEntry): Buffer {
  return Buffer.from(JSON.stringify(e))
}

/**
 * batchParts stores an agent's batch frame as received, behind its identity header: the two parts
 * of the record's payload, which the WAL copies straight into the record.
 */
export function batchParts (id: StampIdentity, seq: number, received: number, frame: Buffer): [Buffer, Buffer] {
  return [Buffer.from('\u0001' + JSON.stringify([id.id, seq, received, id.role, id.site]) + '\n'), frame]
}

export function decodeEntry (b: Buffer): WalEntry {
  if (b[0] !== FRAME) return JSON.parse(b.toString('utf8')) as WalEntry
  const nl = b.indexOf(NL)
  const [id, seq, received, role, site] = JSON.parse(b.toString('utf8', 1, nl)) as [string, number, number, string, string]
  const batch = JSON.parse(b.toString('utf8', nl + 1)) as Batch
  batch.seq = seq
  return stamp({ id, role, site }, batch, received)
}

/** decodeHead reads only who and which seq a record is (WAL recovery), without parsing a frame. */
export function decodeHead (b: Buffer): { a: string, s: number } {
  if (b[0] !== FRAME) { const e = decodeEntry(b); return { a: e.a, s: e.s } }
  const [a, s] = JSON.parse(b.toString('utf8', 1, b.indexOf(NL))) as [string, number]
  return { a, s }
}

/** recordEntry is the record's entry: the appender's own object while the WAL still holds it, else parsed. Read-only. */
export function recordEntry (r: WalRecord): WalEntry {
  return (r.entry as WalEntry | undefined) ?? decodeEntry(r.data)
}

/** pointCount is how many points an entry holds: its points and the rows of its columns. */
export function pointCount (e: WalEntry): number {
  return pointsIn({ points: e.p, cols: e.c })
}

const ALL = Symbol('points')

/**
 * pointsOf is every point of an entry as objects, its columns' rows included, made once per entry
 * (kept under a symbol, which JSON.stringify leaves out). For readers off the hot path: the
 * storage writer, rollups and alerting read the columns as they are.
 */
export function pointsOf (e: WalEntry): readonly Point[] {
  if (e.c === undefined) return e.p
  const held = (e as { [ALL]?: Point[] })[ALL]
  if (held !== undefined) return held
  const out = fromColumns(e.c, e.p.slice())
  ;(e as { [ALL]?: Point[] })[ALL] = out
  return out
}

export function identityTags (id: StampIdentity): Record<string, string> {
  return { host: id.id, role: id.role, site: id.site }
}

/** withIdentity sets host/role/site over a tag set it owns (or a new one). */
function withIdentity (tags: Record<string, string> | undefined, id: StampIdentity): Record<string, string> {
  const out = tags ?? {}
  out['host'] = id.id
  out['role'] = id.role
  out['site'] = id.site
  // poller is the collector's to set (device points only): an agent's own points never carry one.
  if (out['poller'] !== undefined) delete out['poller']
  return out
}

/**
 * stamp sets host/role/site on every point and event from the token's identity, over whatever the
 * agent sent, and adds host_up=1. It stamps the batch in place (no copies): a "__proto__" tag that
 * JSON.parse made an own property stays one. A device's point (tags device = host) keeps host = the device
 * and gains poller = the agent, if the agent may poll it; else it is refused, counted in `dev`.
 * A batch with device points must be stored as its entry, not as its frame (`dev.seen` > 0):
 * replaying a frame stamps it without a device policy.
 */
export function stamp (id: StampIdentity, b: Batch, received: number, dev?: DeviceSink): WalEntry {
  let p: Point[] = b.points
  let c = b.cols
  if (c !== undefined) c = stampCols(c, id, p)
  let devices = 0
  let refused = 0
  for (let i = 0; i < p.length; i++) {
    const pt = p[i]!
    const tags = pt.tags
    if (isDevice(tags)) {
      devices++
      if (!stampDevice(tags, id)) {
        if (refused++ === 0 && dev !== undefined && dev.refusedName === '') dev.refusedName = tags['device']
        ;(p as Array<Point | null>)[i] = null
      }
      continue
    }
    pt.tags = withIdentity(tags, id)
  }
  if (devices > 0) {
    p = finishDevices(p as Array<Point | null>, refused, id.devices?.pinged)
    if (dev !== undefined) { dev.seen += devices; dev.refused += refused }
  }
  p.push({ m: 'host_up', t: received, tags: identityTags(id), f: { up: 1 } })
  const entry: WalEntry = { a: id.id, s: b.seq, r: received, p }
  if (c !== undefined && c.length > 0) entry.c = c
  if (b.resend === true) entry.resend = true
  if (b.events !== undefined && b.events.length > 0) {
    let events = b.events
    let deviceEvents = false
    for (const e of events) {
      if (isDevice(e.tags)) deviceEvents = true
      else e.tags = withIdentity(e.tags, id)
    }
    if (deviceEvents) events = stampDeviceEvents(events, id, dev)
    if (events.length > 0) entry.e = events
  }
  return entry
}

/**
 * stampCols stamps each series once. A device's series (rare: agents that poll devices) becomes
 * points, appended to p, so that the device rules in stamp() apply to them one by one.
 */
function stampCols (cols: Cols[], id: StampIdentity, p: Point[]): Cols[] {
  let out = cols
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i]!
    if (isDevice(c.tags)) {
      if (out === cols) out = cols.slice(0, i)
      fromColumns([c], p)
      continue
    }
    c.tags = withIdentity(c.tags, id)
    if (out !== cols) out.push(c)
  }
  return out
}
