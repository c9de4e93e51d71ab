// What the service-level meeting should look at first: each system's missed
// targets over the report's period, the write-ups still open, then the
// incidents that missed their targets.

import { words, type Lang } from '../i18n.js'
import type { SystemPeriod } from './figures.js'
import { writeUpFlags } from './incidents.js'

const f = (v: number, d: number): string => v.toFixed(d)

/** systemAttention lists the missed targets, systems in config order, at most `limit` lines. */
export function systemAttention (periods: readonly SystemPeriod[], lang: Lang, limit = 10): string[] {
  const w = words(lang)
  const out: string[] = []
  for (const p of periods) {
    const s = p.system.name
    const t = p.system.targets
    const a = p.total.avail
    if (a.availability !== null && a.availability < t.availability) out.push(w('yaAvail', { s, v: f(a.availability, 3), t: t.availability }))
    if (a.compliance !== null && a.compliance < t.responseCompliance) out.push(w('yaCompliance', { s, v: f(a.compliance, 1), t: t.responseCompliance }))
    if (p.total.majorYtd > t.majorPerYear) out.push(w('yaMajor', { s, v: p.total.majorYtd, t: t.majorPerYear }))
  }
  // The write-ups the meeting must still settle: one line for the period (the incident list names them).
  const flags = periods.flatMap(p => p.months.flatMap(m => m.incidents)).map(writeUpFlags)
  const n = flags.filter(f => f.missing.length > 0 || f.unconfirmed || f.autoImpact).length
  if (n > 0) out.push(w('yaFlags', { n, w: flags.filter(f => f.missing.length > 0).length, c: flags.filter(f => f.unconfirmed).length, a: flags.filter(f => f.autoImpact).length }))
  for (const p of periods) {
    const t = p.system.targets
    for (const i of p.months.flatMap(m => m.incidents).filter(x => x.counted)) {
      const base = { s: p.system.name, id: i.row.id, t: t.noticeMinutes }
      if (i.recoveryMet === false) out.push(w('yaRecovery', { ...base, v: f(i.recoveryMin!, 0), t: t.recoveryMinutes }))
      if (i.reportMet === false) out.push(w('yaReport', base))
      if (i.noticeMet === false) out.push(w('yaNotice', base))
    }
  }
  return out.slice(0, limit)
}
