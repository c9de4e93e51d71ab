// 構成管理 (inventory): each host's newest `inventory` point — OS, version,
// build, last installed update, pending reboot, agent version — with the
// problems a review should see: updates older than report.inventory.maxUpdateAgeDays,
// and an OS past (or near) its end of support (eol.ts). Also read by GET /api/v1/inventory.

import { localTime } from '../../../common/calendar.js'
import { rawFrom } from '../daily/status.js'
import { InfluxQL, type InfluxTarget } from '../influxql.js'
import { eolOf } from '../eol.js'
import type { SectionColumn as Column, SectionTable as Table } from './table.js'
import { words, type Lang } from '../i18n.js'

export interface InventoryRow {
  host: string
  /** when the newest inventory point was written (Unix ms) */
  seenAt: number
  osId: string
  osName: string
  osVersion: string
  osBuild: string
  kernel: string | null
  lastUpdate: number | null
  pendingReboot: boolean | null
  agentVersion: string
  /** end of support from the EOL table, YYYY-MM-DD (null: not in the table) */
  eol: string | null
  eolProduct: string | null
}

const FIELDS = ['os_id', 'os_name', 'os_version', 'os_build', 'kernel', 'last_update', 'pending_reboot', 'agent_version'] as const

/**
 * readInventory returns each host's newest inventory point written in [from, to).
 * One query per field with last(): InfluxDB answers several selectors at once with time 0.
 */
export async function readInventory (q: InfluxQL, rawRp: string | undefined, from: number, to: number): Promise<InventoryRow[]> {
  const where = `time >= ${from}ms AND time < ${to}ms`
  const res = await q.query(FIELDS.map(f => `SELECT last("${f}") AS "v" FROM ${rawFrom(rawRp, 'inventory')} WHERE ${where} GROUP BY "host"`))
  const by = new Map<string, Record<string, number | string | null> & { t: number }>()
  FIELDS.forEach((f, i) => {
    for (const s of res[i]!) {
      const host = s.tags['host'] ?? ''
      const v = s.values[0]
      if (v === undefined) continue
      const x = by.get(host) ?? { t: 0 }
      x[f] = v[1] ?? null
      if (f === 'os_name') x.t = Number(v[0])
      by.set(host, x)
    }
  })
  return [...by].map(([host, x]) => {
    const s = (k: string): string => typeof x[k] === 'string' ? x[k] : ''
    const id = { os_id: s('os_id'), os_name: s('os_name'), os_version: s('os_version'), os_build: s('os_build') }
    const e = eolOf(id)
    return {
      host,
      seenAt: x.t,
      osId: id.os_id,
      osName: id.os_name,
      osVersion: id.os_version,
      osBuild: id.os_build,
      kernel: typeof x['kernel'] === 'string' ? x['kernel'] : null,
      lastUpdate: typeof x['last_update'] === 'number' ? x['last_update'] : null,
      pendingReboot: typeof x['pending_reboot'] === 'number' ? x['pending_reboot'] !== 0 : typeof x['pending_reboot'] === 'boolean' ? x['pending_reboot'] : null,
      agentVersion: s('agent_version'),
      eol: e?.eol ?? null,
      eolProduct: e?.product ?? null
    }
  }).sort((a, b) => a.host.localeCompare(b.host))
}

/** inventoryQuery is readInventory against a collector's InfluxDB target. */
export async function inventoryQuery (t: InfluxTarget, from: number, to: number): Promise<InventoryRow[]> {
  return await readInventory(new InfluxQL({ ...t, timeoutMs: 30_000 }), t.rawRp, from, to)
}

export interface InventoryJudgement { row: InventoryRow, updateAgeDays: number | null, staleUpdate: boolean, pastEol: boolean, eolSoon: boolean }

/** judgeInventory flags each row as of `now`: update age beyond maxUpdateAgeDays (or none known), support ended or ending within eolWarnDays. */
export function judgeInventory (rows: readonly InventoryRow[], now: number, tz: string, o: { maxUpdateAgeDays: number, eolWarnDays: number }): InventoryJudgement[] {
  const today = localTime(now, tz).date
  const soon = localTime(now + o.eolWarnDays * 86_400_000, tz).date
  return rows.map(row => {
    const age = row.lastUpdate === null ? null : Math.max(0, (now - row.lastUpdate) / 86_400_000)
    return {
      row,
      updateAgeDays: age,
      staleUpdate: age === null || age > o.maxUpdateAgeDays,
      pastEol: row.eol !== null && today > row.eol,
      eolSoon: row.eol !== null && today <= row.eol && soon > row.eol
    }
  })
}

export function inventoryTable (j: readonly InventoryJudgement[], lang: Lang, maxUpdateAgeDays: number): Table {
  const w = words(lang)
  const C = (key: string, header: string, type: Column['type'], width: number, digits?: number): Column => ({ key, header, type, width, ...(digits !== undefined ? { digits } : {}) })
  // Flagged hosts first: what the review must act on.
  const rank = (x: InventoryJudgement): number => (x.pastEol ? 0 : x.staleUpdate ? 1 : x.eolSoon ? 2 : 3)
  const rows = [...j].sort((a, b) => rank(a) - rank(b) || a.row.host.localeCompare(b.row.host))
  return {
    id: 'inventory', sheet: 'Inventory', title: w('inventory'),
    columns: [C('host', w('host'), 'text', 16), C('os', w('invOs'), 'text', 30), C('version', w('invVersion'), 'text', 16), C('build', w('invBuild'), 'text', 14),
      C('lastUpdate', w('invLastUpdate'), 'date', 12), C('updateAge', w('invUpdateAge'), 'num', 10, 0), C('reboot', w('invReboot'), 'text', 10),
      C('agent', w('invAgent'), 'text', 10), C('eol', w('invEol'), 'text', 12), C('flag', w('flag'), 'text', 30)],
    rows: rows.map(x => ({
      host: x.row.host, os: x.row.osName, version: x.row.osVersion, build: x.row.osBuild,
      lastUpdate: x.row.lastUpdate, updateAge: x.updateAgeDays, reboot: x.row.pendingReboot === true ? w('yes') : '',
      agent: x.row.agentVersion, eol: x.row.eol ?? '',
      flag: [x.pastEol ? w('invPastEol') : '', x.eolSoon ? w('invEolSoon') : '', x.staleUpdate ? (x.updateAgeDays === null ? w('invNoUpdate') : w('invStale', { n: maxUpdateAgeDays })) : ''].filter(Boolean).join(', ')
    }))
  }
}

export function inventoryAttention (j: readonly InventoryJudgement[], lang: Lang, maxUpdateAgeDays: number): string[] {
  const w = words(lang)
  const out: string[] = []
  const eol = j.filter(x => x.pastEol)
  if (eol.length > 0) out.push(w('aPastEol', { n: eol.length, who: eol.slice(0, 3).map(x => `${x.row.host} (${x.row.eolProduct ?? x.row.osName})`).join(', ') }))
  const stale = j.filter(x => x.staleUpdate)
  if (stale.length > 0) out.push(w('aStaleUpdates', { n: stale.length, d: maxUpdateAgeDays, who: stale.slice(0, 3).map(x => x.row.host).join(', ') }))
  return out
}
