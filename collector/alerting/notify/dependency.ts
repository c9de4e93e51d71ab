// Dependency: an incident whose host hangs on a parent that is down now is suppressed as
// `parent:<name>` (recorded, never mailed); a down parent's first mail names the hosts behind it.

import { descendants, downAncestor, downHosts, impactText, type Topology } from '../topology.js'
import type { AlertStore, Incident } from '../store.js'
import type { Notice, Stage } from './stage.js'

export interface DependencyOptions {
  store: AlertStore
  topology: Topology
  /** the names of the heartbeat rules: an open incident of one means its host is down */
  heartbeatRules: () => ReadonlySet<string>
  /** a host still down this long after its parent came back is released and mailed (default 5 min) */
  releaseAfterMs?: number
}

/** A child normally recovers within a poll of its parent; one still down 5 minutes later has its own fault. */
export const RELEASE_AFTER_MS = 5 * 60_000

export class DependencyStage implements Stage {
  constructor (private readonly o: DependencyOptions) {}

  async exec (notices: readonly Notice[], now: number): Promise<Notice[]> {
    const rules = this.o.heartbeatRules()
    const down = downHosts(notices.flatMap(n => n.kind === 'firing' || n.kind === 'repeat' ? n.incidents : []), rules)
    const { topology } = this.o
    await this.o.store.tx(async store => {
      for (const n of notices) {
        if (n.kind !== 'firing') continue
        for (const i of n.incidents) {
          if (i.suppressed_by?.startsWith('parent:') === true) { await this.release(store, i, down, rules, now); continue }
          if (down.size === 0 || i.suppressed_by !== null || i.last_notified_at !== null) continue
          const parent = downAncestor(topology, i.host, i.labels, h => h !== i.host && down.has(h))
          if (parent !== undefined) {
            i.suppressed_by = `parent:${parent}`
            await store.suppress(i.id, i.suppressed_by)
          } else if (rules.has(i.rule)) {
            await this.nameChildren(store, i)
          }
        }
      }
    })
    return [...notices]
  }

  /** release un-suppresses a host whose parents are all up again for a while: it is down on its own. */
  private async release (store: AlertStore, i: Incident, down: ReadonlySet<string>, rules: ReadonlySet<string>, now: number): Promise<void> {
    const parent = i.suppressed_by!.slice('parent:'.length)
    if (downAncestor(this.o.topology, i.host, i.labels, h => h !== i.host && down.has(h)) !== undefined || down.has(parent)) return
    const back = await store.lastResolvedAt(parent, [...rules])
    if (back !== undefined && now - back < (this.o.releaseAfterMs ?? RELEASE_AFTER_MS)) return
    i.suppressed_by = null
    i.description = `${i.description === '' ? '' : i.description + '\n'}上位 ${parent} の復旧後も停止が続いています`
    i.description_en = `${i.description_en === '' ? '' : i.description_en + '\n'}Still down after its parent ${parent} recovered`
    await store.release(i.id)
    await store.setTexts(i.id, i)
  }

  /** nameChildren adds the hosts behind a down parent to its incident until its first mail (idempotent: each plan runs it). */
  private async nameChildren (store: AlertStore, i: Incident): Promise<void> {
    const kids = descendants(this.o.topology, i.host)
    if (kids.length === 0) return
    const t = impactText(kids)
    const next = {
      summary: `${i.summary.replace(SUFFIX_JA, '')} (配下 ${kids.length} 台到達不能)`,
      summary_en: `${i.summary_en.replace(SUFFIX_EN, '')} (${kids.length} hosts behind it unreachable)`,
      description: withLine(i.description, LINE_JA, t.ja),
      description_en: withLine(i.description_en, LINE_EN, t.en)
    }
    if (next.summary === i.summary && next.description === i.description && next.summary_en === i.summary_en && next.description_en === i.description_en) return
    Object.assign(i, next)
    await store.setTexts(i.id, next)
  }
}

const SUFFIX_JA = / \(配下 \d+ 台到達不能\)$/
const SUFFIX_EN = / \(\d+ hosts behind it unreachable\)$/
const LINE_JA = /^配下の \d+ 台が到達不能です.*$/
const LINE_EN = /^\d+ hosts behind it are unreachable.*$/

/** withLine replaces the line matching re in a description (or appends it). */
function withLine (text: string, re: RegExp, line: string): string {
  const lines = text === '' ? [] : text.split('\n').filter(l => !re.test(l))
  return [...lines, line].join('\n')
}
