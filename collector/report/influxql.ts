// InfluxQL over HTTP /query (InfluxDB 1.x; 2.x and 3.x through their v1 API),
// and the report's data sources: the 5-minute rollups where they hold the
// month, else the raw points rolled up on the fly by a subquery with the same
// columns (<field>_mean/_max/_min/_count), so every figure is computed one way.

export interface Series {
  name: string
  tags: Record<string, string>
  columns: string[]
  values: Array<Array<number | string | null>>
}

export interface InfluxTarget {
  url: string
  db: string
  /** InfluxDB 2.x/3.x token (sent as "Authorization: Token …") */
  token?: string | undefined
  username?: string | undefined
  password?: string | undefined
  /** raw retention policy; undefined = the database default */
  rawRp?: string | undefined
  /** rollup retention policy; undefined = the database default */
  rollupRp?: string | undefined
  /** retention policy of log_event (influx.retention.logsPolicy); undefined = rawRp */
  logsRp?: string | undefined
  /** influx.retention.logsBy of every target: roles/sites whose log text stays out of reports (short-lived.ts) */
  logsBy?: ReadonlyArray<{ where: { role?: string | undefined, site?: string | undefined } }>
  timeoutMs?: number
}

/** InfluxQL sends statements, several per request, and returns one list of series per statement. */
export class InfluxQL {
  statements = 0
  requests = 0
  constructor (private readonly t: InfluxTarget) {}

  async query (stmts: string[]): Promise<Series[][]> {
    if (stmts.length === 0) return []
    // InfluxDB runs the statements of one request one after the other: a few requests in
    // flight let it use more than one core; each stays small enough to answer in one buffer.
    const chunks: string[][] = []
    for (let i = 0; i < stmts.length; i += 12) chunks.push(stmts.slice(i, i + 12))
    const out: Series[][][] = new Array(chunks.length)
    let next = 0
    await Promise.all(Array.from({ length: Math.min(3, chunks.length) }, async () => {
      while (next < chunks.length) { const i = next++; out[i] = await this.request(chunks[i]!) }
    }))
    return out.flat()
  }

  private async request (stmts: string[]): Promise<Series[][]> {
    this.statements += stmts.length
    this.requests++
    const body = new URLSearchParams({ db: this.t.db, q: stmts.join(';\n'), epoch: 'ms' })
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
    if (this.t.token !== undefined && this.t.token !== '') headers['authorization'] = `Token ${this.t.token}`
    else if (this.t.username !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${this.t.username}:${this.t.password ?? ''}`).toString('base64')}`
    let res: Response
    try {
      res = await fetch(`${this.t.url.replace(/\/$/, '')}/query`, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.t.timeoutMs ?? 300_000) })
    } catch (err) {
      throw new Error(`InfluxDB at ${this.t.url} did not answer: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`)
    }
    const text = await res.text()
    let json: { results?: Array<{ statement_id?: number, series?: Series[], error?: string }>, error?: string }
    try { json = JSON.parse(text) as typeof json } catch { throw new Error(`InfluxDB at ${this.t.url} answered HTTP ${res.status}: ${text.slice(0, 200)}`) }
    if (!res.ok || json.error !== undefined) throw new Error(`InfluxDB at ${this.t.url} answered HTTP ${res.status}: ${json.error ?? text.slice(0, 200)}`)
    const results = json.results ?? []
    return stmts.map((s, i) => {
      const r = results.find(x => x.statement_id === i) ?? results[i]
      // A missing measurement or retention policy is "no data" for the report, not a failure.
      if (r?.error !== undefined && !/not found|does not exist|not executed/.test(r.error)) throw new Error(`InfluxDB: ${r.error} in: ${s.slice(0, 300)}`)
      return r?.series ?? []
    })
  }
}

/** Range is a half-open time interval in Unix ms. */
export interface Range { start: number, end: number }

export function timeCond (r: Range): string {
  return `time >= ${r.start}ms AND time < ${r.end}ms`
}

export function ident (s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

export function str (s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

/** The fields each measurement's figures need; the raw subquery rolls up exactly these. */
const FIELDS: Record<string, string[]> = {
  cpu: ['usage_percent'],
  mem: ['used_percent'],
  disk: ['used_percent', 'total_bytes'],
  net: ['rx_bytes_per_sec', 'tx_bytes_per_sec'],
  snmp_if: ['rx_bytes_per_sec', 'tx_bytes_per_sec'],
  host_up: ['up'],
  service: ['up', 'response_ms', 'exit_code', 'on_time']
}

export type Tier = 'rollup' | 'raw' | 'none'

/** Sources chooses, per measurement and month, between the rollups and raw data. */
export class Sources {
  readonly tiers = new Map<string, Tier>()
  constructor (private readonly q: InfluxQL, private readonly t: InfluxTarget) {}

  private rp (rp: string | undefined, m: string): string {
    return rp === undefined ? ident(m) : `${ident(rp)}.${ident(m)}`
  }

  /** probe looks for each measurement's key field in the rollups, then in raw data. */
  async probe (r: Range): Promise<void> {
    const names = Object.keys(FIELDS)
    const roll = await this.q.query(names.map(m => `SELECT count(${ident(FIELDS[m]![0]! + '_count')}) FROM ${this.rp(this.t.rollupRp, m)} WHERE ${timeCond(r)}`))
    const missing = names.filter((_, i) => count(roll[i]!) === 0)
    const raw = await this.q.query(missing.map(m => `SELECT count(${ident(FIELDS[m]![0]!)}) FROM ${this.rp(this.t.rawRp, m)} WHERE ${timeCond(r)}`))
    for (const m of names) this.tiers.set(m, 'rollup')
    missing.forEach((m, i) => this.tiers.set(m, count(raw[i]!) > 0 ? 'raw' : 'none'))
  }

  tier (m: string): Tier {
    return this.tiers.get(m) ?? 'none'
  }

  /** from is the FROM clause of 5-minute rows of a measurement within a range. */
  from (m: string, r: Range): string {
    if (this.tier(m) !== 'raw') return this.rp(this.t.rollupRp, m)
    const cols = FIELDS[m]!.flatMap(f => [
      `mean(${ident(f)}) AS ${ident(f + '_mean')}`, `max(${ident(f)}) AS ${ident(f + '_max')}`,
      `min(${ident(f)}) AS ${ident(f + '_min')}`, `count(${ident(f)}) AS ${ident(f + '_count')}`
    ])
    return `(SELECT ${cols.join(', ')} FROM ${this.rp(this.t.rawRp, m)} WHERE ${timeCond(r)} GROUP BY time(5m), *)`
  }
}

function count (s: Series[]): number {
  let n = 0
  for (const x of s) for (const v of x.values) n += Number(v[1] ?? 0)
  return n
}

/** col returns a function reading a named column of a row. */
export function col (s: Series, name: string): (row: Array<number | string | null>) => number | null {
  const i = s.columns.indexOf(name)
  return row => {
    const v = i < 0 ? null : row[i]
    return typeof v === 'number' ? v : null
  }
}
