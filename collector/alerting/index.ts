// Builds the alerting stage from the config: calendar, schedules, rules,
// store, notifier and the WAL-driven stage; reload swaps rules without losing state.

import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { openingHours, type AlertingConfig } from '../config.js'
import type { Wal } from '../state/wal/index.js'
import { BusinessCalendar, makeSchedule, ALWAYS, type Schedule } from './calendar.js'
import { Evaluator } from './evaluator.js'
import { loadRules } from './rules.js'
import { AlertStore } from './store.js'
import { Notifier } from './notifier.js'
import { SmtpSender } from './smtp.js'
import { AlertingStage } from './stage.js'
import { signAck } from './mail.js'
import { mutedBy } from './mute.js'

export interface Alerting {
  stage: AlertingStage
  store: AlertStore
  evaluator: Evaluator
  notifier: Notifier
  calendar: BusinessCalendar
  ackSecret: Buffer
  /** reload reads the rules again; a bad file leaves the running rules in place and throws */
  reload(): number
  /** setAgents takes the agents' opening hours (agents[].schedule; kiosks default to kiosk-hours) */
  setAgents(agents: readonly AgentHours[]): void
  close(): Promise<void>
}

/** ackSecret is kept in the data dir (0600) so ack links survive restarts. */
function loadSecret (dir: string): Buffer {
  const f = join(dir, 'ack-secret')
  if (existsSync(f)) return Buffer.from(readFileSync(f, 'utf8').trim(), 'hex')
  const s = randomBytes(32)
  writeFileSync(f, s.toString('hex'), { mode: 0o600 })
  return s
}

export interface AgentHours { id: string, role: string, schedule?: string }

/**
 * hostSchedules maps each agent to its opening hours: its schedule, or for a
 * kiosk without one the kiosk-hours schedule when it exists; "always" (or
 * none) means the host is expected to run at all hours.
 */
export function hostSchedules (agents: readonly AgentHours[], schedules: ReadonlyMap<string, Schedule>): Map<string, Schedule> {
  const out = new Map<string, Schedule>()
  for (const ag of agents) {
    const name = openingHours(ag)
    const sch = name === undefined ? undefined : schedules.get(name)
    if (sch !== undefined) out.set(ag.id, sch)
  }
  return out
}

export function createAlerting (a: AlertingConfig, dataDir: string, wal: Wal, logger: Logger, onMail?: (kind: string, result: string) => void, agents: readonly AgentHours[] = []): Alerting {
  const calendar = new BusinessCalendar({ timezone: a.timezone, ...a.calendar })
  const schedules = new Map<string, Schedule>(a.schedules.map(s => [s.name, makeSchedule({ name: s.name, days: s.days, hours: s.hours }, calendar)]))
  const rules = loadRules(a.rulesDir, new Set(schedules.keys()))
  // Per-host opening hours (kiosks): outside them a host's series are out of schedule for every rule.
  let hostHours = hostSchedules(agents, schedules)
  const setAgents = (next: readonly AgentHours[]): void => { hostHours = hostSchedules(next, schedules) }
  const evaluator = new Evaluator({
    rules,
    inSchedule: (r, t, labels) => (schedules.get(r.schedule) ?? ALWAYS).contains(t) && (hostHours.get(labels['host'] ?? '')?.contains(t) ?? true)
  })
  const store = new AlertStore(dataDir)
  const now = Date.now()
  // Maintenance windows from the config are (re)recorded once each, by name, so the SLA report sees them.
  const known = new Set(store.windows('maintenance').filter(w => w.created_by === 'config').map(w => w.name))
  for (const m of a.maintenance) {
    if (known.has(m.name)) continue
    store.addWindow({ kind: 'maintenance', name: m.name, matchers: m.match, starts_at: Date.parse(m.start), ends_at: Date.parse(m.end), recur_days: m.days ?? null, recur_hours: m.hours ?? null, created_by: 'config', comment: '' }, now)
  }
  const ackSecret = loadSecret(dataDir)
  const smtp = new SmtpSender({ ...a.smtp })
  const publicUrl = a.publicUrl
  const lines = new Map<number, string[]>()
  const notifier: Notifier = new Notifier({
    store,
    send: async (to, subject, text, html) => await smtp.send(to, subject, text, html),
    receivers: a.receivers,
    routes: a.routes,
    groupWaitMs: a.groupWaitMs,
    groupIntervalMs: a.groupIntervalMs,
    repeatIntervalMs: a.repeatIntervalMs,
    ...(a.escalation !== undefined ? { escalation: a.escalation } : {}),
    ...(a.deadman !== undefined ? { deadman: a.deadman } : {}),
    timezone: a.timezone,
    ...(a.grafanaUrl !== undefined ? { grafanaUrl: a.grafanaUrl } : {}),
    ...(publicUrl !== undefined
      ? {
          ackLink: (id: number) => {
            const exp = Date.now() + a.ackLinkTtlMs
            return `${publicUrl.replace(/\/+$/, '')}/v1/alerts/${id}/ack?exp=${exp}&sig=${signAck(ackSecret, id, exp)}`
          }
        }
      : {}),
    linesOf: (i): string[] => lines.get(i.id) ?? [],
    mutedAt: (i, t) => mutedBy(store.windows(), { ...i.labels, severity: i.severity }, i.rule, t, calendar) !== undefined,
    logger: logger.child({ component: 'notifier' }),
    ...(onMail !== undefined ? { onMail } : {})
  })
  const stage = new AlertingStage({ wal, reader: wal.reader('alerting'), store, evaluator, notifier, calendar, lines, logger: logger.child({ component: 'alerting' }) })
  logger.info({ rules: rules.length, schedules: [...schedules.keys()], receivers: a.receivers.length }, 'alerting ready')
  return {
    stage, store, evaluator, notifier, calendar, ackSecret, setAgents,
    reload: () => {
      const next = loadRules(a.rulesDir, new Set(schedules.keys()))
      stage.apply(evaluator.setRules(next, Date.now()))
      return next.length
    },
    close: async () => {
      await stage.stop()
      smtp.close()
      store.close()
    }
  }
}
