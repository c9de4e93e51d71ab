// The notification chain, driven from the incident record so a restart loses
// nothing: each plan reads the open and resolved-unmailed incidents, runs
// mute → group → dedup/repeat → escalate → outbox, and deliver sends the outbox.

import type { Logger } from 'pino'
import type { BusinessCalendar } from '../../../common/calendar.js'
import type { SendResult } from '../../../common/send-result.js'
import type { AlertStore, Incident } from '../store.js'
import { DedupStage } from './dedup.js'
import { DependencyStage, type DependencyOptions } from './dependency.js'
import { EscalateStage } from './escalate.js'
import { GroupStage } from './group.js'
import { MuteStage } from './mute.js'
import { OutboxStage } from './outbox.js'
import { SendStage, type MailSend } from './send.js'
import type { Notice, Receiver, Route, Stage } from './stage.js'

export interface NotifierOptions {
  store: AlertStore
  send: MailSend
  calendar: BusinessCalendar
  receivers: readonly Receiver[]
  routes: readonly Route[]
  groupWaitMs: number
  groupIntervalMs: number
  repeatIntervalMs: number
  escalation?: { afterMs: number, receiver: string } | undefined
  deadman?: { intervalMs: number, receiver: string } | undefined
  timezone: string
  grafanaUrl?: string | undefined
  ackLink?: ((id: number) => string) | undefined
  /** the incident view in the console (resolved mails link to the write-up) */
  incidentLink?: ((id: number) => string) | undefined
  linesOf?: (incident: Incident) => string[]
  now: () => number
  logger: Logger
  onMail?: ((kind: string, result: SendResult['kind']) => void) | undefined
  random?: (() => number) | undefined
  /** parents and heartbeat rules: suppress the alerts of hosts behind a down parent */
  dependency?: Omit<DependencyOptions, 'store'> | undefined
}

/** candidates are the incidents each kind of mail could be about, by state alone; the stages decide. */
export function candidates (open: Incident[], resolved: Incident[], o: Pick<NotifierOptions, 'escalation' | 'deadman'>, leader = true): Notice[] {
  return [
    { kind: 'firing', incidents: open.filter(i => i.last_notified_at === null) },
    { kind: 'resolved', incidents: resolved },
    { kind: 'repeat', incidents: open.filter(i => i.last_notified_at !== null) },
    ...(o.escalation !== undefined ? [{ kind: 'escalation' as const, incidents: open }] : []),
    ...(o.deadman !== undefined && leader ? [{ kind: 'deadman' as const, incidents: open }] : [])
  ]
}

export class Notifier {
  readonly stages: readonly Stage[]
  private readonly sender: SendStage
  /** cluster mode: only the leader sends the dead-man mail (collector/cluster/); unset: always */
  leader: (() => boolean) | undefined

  constructor (private readonly o: NotifierOptions) {
    const { store } = o
    this.stages = [
      ...(o.dependency !== undefined ? [new DependencyStage({ store, ...o.dependency })] : []),
      new MuteStage(() => store.windows(), o.calendar),
      new GroupStage({ receivers: o.receivers, routes: o.routes, escalation: o.escalation?.receiver, deadman: o.deadman?.receiver }),
      new DedupStage({ groupWaitMs: o.groupWaitMs, groupIntervalMs: o.groupIntervalMs, repeatIntervalMs: o.repeatIntervalMs, deadmanIntervalMs: o.deadman?.intervalMs, lastQueued: k => this.lastQueued.get(k) ?? 0 }),
      new EscalateStage(o.escalation?.afterMs ?? Infinity),
      new OutboxStage({ store, timezone: o.timezone, grafanaUrl: o.grafanaUrl, ackLink: o.ackLink, incidentLink: o.incidentLink, ...(o.linesOf !== undefined ? { linesOf: o.linesOf } : {}) })
    ]
    this.sender = new SendStage({ store, send: o.send, now: o.now, logger: o.logger, onMail: o.onMail, random: o.random })
  }

  /** when the newest mail of each kind was queued, read at the start of each plan (the dedup stage asks) */
  private readonly lastQueued = new Map<string, number>()

  /**
   * plan runs the chain at now in one transaction; it returns how many mails it queued. In a cluster every
   * node plans, one at a time (exclusive): each sees what the last one marked, so a notice is queued once.
   */
  async plan (now: number): Promise<number> {
    return await this.o.store.tx(async store => {
      if (this.o.deadman !== undefined) this.lastQueued.set('deadman', await store.lastMailOf('deadman'))
      let notices = candidates(await store.firing(), await store.dueResolved(), this.o, this.leader?.() ?? true)
      for (const s of this.stages) notices = await s.exec(notices, now)
      return notices.length
    }, { exclusive: 'notify-plan' })
  }

  /** deliver sends the outbox mails due at now. */
  async deliver (now: number): Promise<number> {
    return await this.sender.exec(now)
  }
}
