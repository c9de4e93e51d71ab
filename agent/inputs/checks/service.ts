// Service checks as an input: each check runs on its own interval with its own
// timeout, apart from metric collection; gather() hands over the results that
// came in since the last round, each with its own time. A check that hangs is
// reported down with the reason when its timeout fires.

import type { Accumulator, Input } from '../input.js'
import type { Check, CheckResult } from './types.js'

export interface ServiceCheckSpec {
  name: string
  type: string
  intervalMs: number
  timeoutMs: number
  check: Check
  /** tags on every point of this check (devices: device, host, role, site, parent) */
  tags?: Record<string, string>
}

interface Done { spec: ServiceCheckSpec, t: number, r: CheckResult }

export class ServiceChecks implements Input {
  readonly name = 'service'
  private done: Done[] = []
  private timers: NodeJS.Timeout[] = []
  private running = new Set<string>()
  private stopped = false

  constructor (private readonly specs: ServiceCheckSpec[], private readonly now: () => number = Date.now) {}

  start (): void {
    for (const [i, s] of this.specs.entries()) {
      // spread first runs over the first second so checks do not all fire at once
      const first = setTimeout(() => { void this.runOnce(s) }, Math.round((i / Math.max(1, this.specs.length)) * 1000))
      const every = setInterval(() => { void this.runOnce(s) }, s.intervalMs)
      this.timers.push(first, every)
    }
  }

  /** runOnce runs one check bounded by its timeout; a run still going is not started twice. */
  async runOnce (s: ServiceCheckSpec): Promise<CheckResult> {
    if (this.running.has(s.name)) return { up: false, message: 'previous run still going' }
    this.running.add(s.name)
    const ac = new AbortController()
    const t = this.now()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<CheckResult>(resolve => {
      timer = setTimeout(() => { ac.abort(); resolve({ up: false, message: `timed out after ${s.timeoutMs} ms` }) }, s.timeoutMs)
    })
    let r: CheckResult
    try {
      r = await Promise.race([s.check(ac.signal).catch((err: unknown) => ({ up: false, message: `check failed: ${(err as Error).message ?? String(err)}` })), timeout])
    } finally {
      clearTimeout(timer)
      this.running.delete(s.name)
    }
    if (!this.stopped) this.done.push({ spec: s, t, r })
    if (this.done.length > 10_000) this.done.splice(0, this.done.length - 10_000)
    return r
  }

  async gather (acc: Accumulator): Promise<void> {
    const done = this.done
    this.done = []
    for (const { spec, t, r } of done) {
      const f: Record<string, number | string> = { up: r.up ? 1 : 0, message: r.message.slice(0, 500), ...r.fields }
      if (r.responseMs !== undefined) f['response_ms'] = r.responseMs
      acc.add('service', f, { ...spec.tags, service: spec.name, check: spec.type }, t)
      for (const p of r.points ?? []) acc.add(p.m, p.fields, { ...spec.tags, ...p.tags }, p.t ?? t)
    }
  }

  async close (): Promise<void> {
    this.stopped = true
    for (const t of this.timers) { clearTimeout(t); clearInterval(t) }
  }
}
