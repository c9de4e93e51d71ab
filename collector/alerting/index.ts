// Builds alerting from its config: calendar, schedules, rules, store, the
// notification chain and the WAL-driven stage; reload swaps rules without losing state.

import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Wal } from '../state/wal/index.js'
import type { BusinessCalendar } from '../../common/calendar.js'
import { japanCalendar } from '../../common/holidays.js'
import { hostSchedules, type AgentHours } from '../calendar/opening-hours.js'
import { ALWAYS, makeSchedule, type Schedule } from '../calendar/schedules.js'
import type { AlertingConfig } from './config.js'
import { Evaluator } from './evaluator.js'
import { loadRules } from './rules.js'
import type { AlertStore } from './store.js'
import { SqliteAlertStore } from './store-sqlite.js'
import type { AuditLog } from '../audit/log.js'
import { Notifier } from './notify/notifier.js'
import { SmtpSender } from './smtp.js'
import { AlertingStage } from './stage.js'
import { signAck } from './mail.js'
import type { SystemConfig } from '../config/systems.js'
import { downAncestor, downHosts, type Topology } from './topology.js'

export interface Alerting {
  stage: AlertingStage
  store: AlertStore
  evaluator: Evaluator
  notifier: Notifier
  calendar: BusinessCalendar
  ackSecret: Buffer
  /** secrets of links mailed earlier that this node still accepts (cluster: its own, from a start while PostgreSQL was unreachable) */
  formerAckSecrets?: readonly Buffer[]
  /** the clock alerting runs on; the API reads it too */
  now: () => number
  /** reload reads the rules again; a bad file leaves the running rules in place and throws */
  reload(): Promise<number>
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

/** Cluster mode: the shared store (PostgreSQL) and the lease that fences an agent's writes. */
export interface SharedAlerting {
  store: AlertStore
  fenceOf: (agent: string) => string | undefined
  onFenced: (lease: string) => void
  /** the cluster's ack-link secret: the first node's own becomes everyone's, so a link verifies on any node */
  ackSecret: (local: Buffer) => Promise<Buffer>
  /** started degraded: set receives the cluster's secret once PostgreSQL answers (ackSecret gave the local one) */
  onAckSecret?: (set: (shared: Buffer) => void) => void
}

/**
 * createAlerting opens the store and restores the series state: SQLite in dataDir, or (cluster) the shared
 * store, where each agent's series are loaded when its lease is taken here (stage.adopt).
 */
export async function createAlerting (a: AlertingConfig, dataDir: string, wal: Wal, logger: Logger, onMail?: (kind: string, result: string) => void, agents: readonly AgentHours[] = [], audit?: AuditLog, now: () => number = Date.now, systems: readonly SystemConfig[] = [], topology?: Topology, shared?: SharedAlerting): Promise<Alerting> {
  const calendar = japanCalendar({ timezone: a.timezone, ...a.calendar })
  const schedules = new Map<string, Schedule>(a.schedules.map(s => [s.name, makeSchedule({ name: s.name, days: s.days, hours: s.hours }, calendar)]))
  const rules = loadRules(a.rulesDir, new Set(schedules.keys()))
  // Per-host opening hours (kiosks): outside them a host's series are out of schedule for every rule.
  let hostHours = hostSchedules(agents, schedules)
  const setAgents = (next: readonly AgentHours[]): void => { hostHours = hostSchedules(next, schedules) }
  const evaluator = new Evaluator({
    rules,
    inSchedule: (r, t, labels) => (schedules.get(r.schedule) ?? ALWAYS).contains(t) && (hostHours.get(labels['host'] ?? '')?.contains(t) ?? true)
  })
  const store: AlertStore = shared?.store ?? new SqliteAlertStore(dataDir, audit)
  // Maintenance windows from the config are (re)recorded once each, by name, so the SLA report sees them
  // (exclusive: collectors of a cluster starting at once record each once).
  const recordMaintenance = async (): Promise<void> => {
    await store.tx(async store => {
      const known = new Set((await store.windows('maintenance')).filter(w => w.created_by === 'config').map(w => w.name))
      for (const m of a.maintenance) {
        if (known.has(m.name)) continue
        await store.addWindow({ kind: 'maintenance', name: m.name, matchers: m.match, starts_at: Date.parse(m.start), ends_at: Date.parse(m.end), recur_days: m.days ?? null, recur_hours: m.hours ?? null, created_by: 'config', comment: '' }, now())
      }
    }, { exclusive: 'config-maintenance' })
  }
  await recordMaintenance()
  // Cluster started degraded: recorded locally (they mute here) and again in PostgreSQL once it answers.
  store.whenShared?.(recordMaintenance)
  let ackSecret = shared === undefined ? loadSecret(dataDir) : await shared.ackSecret(loadSecret(dataDir))
  const formerAckSecrets: Buffer[] = []
  const { timeout, ...smtpOptions } = a.smtp
  const smtp = new SmtpSender({ ...smtpOptions, timeoutMs: timeout })
  const publicUrl = a.publicUrl?.replace(/\/+$/, '')
  const heartbeatRules = (): Set<string> => new Set(evaluator.getRules().filter(r => r.type === 'heartbeat').map(r => r.name))
  const lines = new Map<number, string[]>()
  const notifier = new Notifier({
    store,
    send: async (to, subject, text, html, attachments, messageId) => await smtp.send(to, subject, text, html, attachments, messageId),
    calendar,
    receivers: a.receivers,
    routes: a.routes,
    groupWaitMs: a.groupWait,
    groupIntervalMs: a.groupInterval,
    repeatIntervalMs: a.repeatInterval,
    escalation: a.escalation === undefined ? undefined : { afterMs: a.escalation.after, receiver: a.escalation.receiver },
    deadman: a.deadman === undefined ? undefined : { intervalMs: a.deadman.interval, receiver: a.deadman.receiver },
    timezone: a.timezone,
    grafanaUrl: a.grafanaUrl,
    ackLink: publicUrl === undefined
      ? undefined
      : (id: number) => {
          const exp = now() + a.ackLinkTtl
          return `${publicUrl}/v1/alerts/${id}/ack?exp=${exp}&sig=${signAck(ackSecret, id, exp)}`
        },
    linesOf: (i): string[] => lines.get(i.id) ?? [],
    incidentLink: publicUrl === undefined ? undefined : (id: number) => `${publicUrl}/console/incidents/${id}`,
    now,
    logger: logger.child({ component: 'notifier' }),
    onMail,
    dependency: topology === undefined ? undefined : { topology, heartbeatRules }
  })
  const dependsOn = topology === undefined
    ? undefined
    : async (host: string, labels: Record<string, string>): Promise<string | undefined> => {
        const down = downHosts(await store.firing(), heartbeatRules())
        const p = down.size === 0 ? undefined : downAncestor(topology, host, labels, h => h !== host && down.has(h))
        return p === undefined ? undefined : `parent:${p}`
      }
  const stage = new AlertingStage({ wal, reader: wal.reader('alerting'), store, evaluator, notifier, calendar, lines, now, logger: logger.child({ component: 'alerting' }), systems, mergeWindowMs: a.incidents.mergeWindow, ...(dependsOn !== undefined ? { dependsOn } : {}), ...(shared !== undefined ? { fenceOf: shared.fenceOf, onFenced: shared.onFenced } : {}) })
  // Cluster: the series of the collector's own points (host_up of the host-down judgement) now; each agent's when its lease is taken.
  await stage.load(shared === undefined ? undefined : '')
  logger.info({ rules: rules.length, schedules: [...schedules.keys()], receivers: a.receivers.length }, 'alerting ready')
  // Links mailed with this node's own secret while PostgreSQL was unreachable keep working here.
  shared?.onAckSecret?.(next => {
    if (next.equals(ackSecret)) return
    formerAckSecrets.push(ackSecret)
    ackSecret = next
  })
  return {
    stage, store, evaluator, notifier, calendar, now, setAgents, formerAckSecrets,
    get ackSecret () { return ackSecret },
    reload: async () => {
      const next = loadRules(a.rulesDir, new Set(schedules.keys()))
      await stage.apply(evaluator.setRules(next, now()))
      return next.length
    },
    close: async () => {
      await stage.stop()
      smtp.close()
      await store.close()
    }
  }
}
