// The leader's cluster notices as mails: through the alerting outbox (durable, retried) to
// cluster.receivers, else alerting.deadman's receiver, else every receiver; and in the audit log.

import type { Logger } from 'pino'
import type { Alerting } from '../alerting/index.js'
import type { AlertingConfig } from '../alerting/config.js'
import type { AuditLog } from '../audit/log.js'
import type { ClusterConfig } from '../config/cluster.js'
import { composeCutOff, composeCutOffBack, composeNodeBack, composeNodeDown } from './down-mail.js'
import type { SweepResult } from './sweep.js'

export interface NoticeOptions {
  cluster: ClusterConfig
  alerting: Alerting | undefined
  alertingConfig: AlertingConfig | undefined
  audit: AuditLog
  now: () => number
  logger: Logger
}

/** clusterNotices returns the onSweep handler: one mail per receiver per node down or back. */
export function clusterNotices (o: NoticeOptions): (r: SweepResult) => void {
  const a = o.alertingConfig
  const names = o.cluster.receivers.length > 0 ? o.cluster.receivers : a?.deadman !== undefined ? [a.deadman.receiver] : (a?.receivers.map(r => r.name) ?? [])
  const receivers = (a?.receivers ?? []).filter(r => names.includes(r.name))
  const timezone = a?.timezone ?? 'Asia/Tokyo'
  return (r: SweepResult): void => {
    const now = o.now()
    for (const d of r.down) {
      o.logger.error({ node: d.node, agents: d.agents, moved: d.moved, lost: d.lost }, `cluster: collector ${d.node} down`)
      o.audit.append('collector', 'cluster.node_down', { node: d.node, agents: d.agents, moved: d.moved, lost: d.lost }, now)
    }
    for (const b of r.back) {
      o.logger.warn({ node: b.node }, `cluster: collector ${b.node} is back`)
      o.audit.append('collector', 'cluster.node_back', { node: b.node, downAt: b.downAt }, now)
    }
    for (const c of r.cutOff ?? []) {
      o.logger.error({ node: c.node, agents: c.agents.length, degraded: c.degraded }, `cluster: collector ${c.node} cut off from PostgreSQL; it answers its peers and keeps its agents`)
      o.audit.append('collector', 'cluster.node_cut_off', { node: c.node, agents: c.agents, degraded: c.degraded }, now)
    }
    for (const b of r.cutOffBack ?? []) {
      o.logger.warn({ node: b.node }, `cluster: collector ${b.node} reaches PostgreSQL again`)
      o.audit.append('collector', 'cluster.node_cut_off_end', { node: b.node, since: b.since }, now)
    }
    const store = o.alerting?.store
    if (store === undefined || receivers.length === 0) {
      if (r.down.length > 0 || (r.cutOff?.length ?? 0) > 0) o.logger.warn('cluster: no alerting receivers: the collector-down notice is only in the log and the audit log')
      return
    }
    const queued = store.tx(async t => {
      for (const rc of receivers) {
        for (const d of r.down) {
          const m = composeNodeDown(d, rc.locale, timezone)
          await t.enqueue({ kind: 'cluster', incident_ids: [], receiver: rc.name, recipients: [...rc.email], subject: m.subject, text: m.text, html: m.html, created_at: now })
        }
        for (const b of r.back) {
          const m = composeNodeBack(b.node, b.downAt, now, rc.locale, timezone)
          await t.enqueue({ kind: 'cluster', incident_ids: [], receiver: rc.name, recipients: [...rc.email], subject: m.subject, text: m.text, html: m.html, created_at: now })
        }
        for (const c of r.cutOff ?? []) {
          const m = composeCutOff(c, rc.locale, timezone)
          await t.enqueue({ kind: 'cluster', incident_ids: [], receiver: rc.name, recipients: [...rc.email], subject: m.subject, text: m.text, html: m.html, created_at: now })
        }
        for (const b of r.cutOffBack ?? []) {
          const m = composeCutOffBack(b.node, b.since, now, rc.locale, timezone)
          await t.enqueue({ kind: 'cluster', incident_ids: [], receiver: rc.name, recipients: [...rc.email], subject: m.subject, text: m.text, html: m.html, created_at: now })
        }
      }
    })
    queued.then(async () => await o.alerting?.notifier.deliver(o.now()), err => {
      o.logger.error({ err }, 'cluster: could not queue the collector notice mails; it is in the log and the audit log')
    }).catch(err => o.logger.error({ err }, 'cluster notice delivery failed; the outbox retries'))
  }
}
