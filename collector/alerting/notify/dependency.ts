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
}

export class DependencyStage implements Stage {
  constructor (private readonly o: DependencyOptions) {}

  exec (notices: readonly Notice[]): Notice[] {
    const rules = this.o.heartbeatRules()
    const down = downHosts(notices.flatMap(n => n.kind === 'firing' || n.kind === 'repeat' ? n.incidents : []), rules)
    if (down.size === 0) return [...notices]
    const { store, topology } = this.o
    store.tx(() => {
      for (const n of notices) {
        if (n.kind !== 'firing') continue
        for (const i of n.incidents) {
          if (i.suppressed_by !== null || i.last_notified_at !== null) continue
          const parent = downAncestor(topology, i.host, i.labels, h => h !== i.host && down.has(h))
          if (parent !== undefined) {
            i.suppressed_by = `parent:${parent}`
            store.suppress(i.id, i.suppressed_by)
          } else if (rules.has(i.rule)) {
            this.nameChildren(i)
          }
        }
      }
    })
    return [...notices]
  }

  /** nameChildren adds the hosts behind a down parent to its incident, before its first mail. */
  private nameChildren (i: Incident): void {
    const kids = descendants(this.o.topology, i.host)
    if (kids.length === 0) return
    const t = impactText(kids)
    i.summary = `${i.summary} (配下 ${kids.length} 台到達不能)`
    i.summary_en = `${i.summary_en} (${kids.length} hosts behind it unreachable)`
    i.description = i.description === '' ? t.ja : `${i.description}\n${t.ja}`
    i.description_en = i.description_en === '' ? t.en : `${i.description_en}\n${t.en}`
    this.o.store.setTexts(i.id, i)
  }
}
