// Dependencies between hosts: a kiosk or device hangs on a parent (agents[].parent in
// collector.yaml, or the parent tag of a device's points). While a parent is down its
// descendants' alerts are suppressed as `parent:<name>`, and its incident names them.

import type { Incident } from './store.js'

export interface Topology {
  /** the parent of a host (agent id or device name), if it has one */
  parentOf(host: string): string | undefined
  /** every [host, parent] pair known */
  pairs(): Iterable<[string, string]>
}

const MAX_DEPTH = 32

/** hostTopology joins the agents' configured parents with the devices' parent tags (a device's tag wins). */
export function hostTopology (agents: () => ReadonlyArray<{ id: string, parent?: string | undefined }>, devices: { parents(): Iterable<[string, string]> }): Topology {
  const pairs = function * (): Iterable<[string, string]> {
    const seen = new Set<string>()
    for (const [d, p] of devices.parents()) { seen.add(d); yield [d, p] }
    for (const a of agents()) if (a.parent !== undefined && !seen.has(a.id)) yield [a.id, a.parent]
  }
  return {
    pairs,
    parentOf: host => {
      for (const [h, p] of pairs()) if (h === host) return p
      return undefined
    }
  }
}

/**
 * downAncestor is the nearest ancestor of a host that is down now (its parent first: from the
 * incident's parent label, else the topology), or undefined. Cycles end the walk.
 */
export function downAncestor (topo: Topology, host: string, labels: Record<string, string>, isDown: (h: string) => boolean): string | undefined {
  const parents = new Map(topo.pairs())
  const seen = new Set([host])
  let p: string | undefined = labels['parent'] ?? parents.get(host)
  for (let i = 0; p !== undefined && i < MAX_DEPTH && !seen.has(p); i++) {
    if (isDown(p)) return p
    seen.add(p)
    p = parents.get(p)
  }
  return undefined
}

/** descendants lists every host below one (children, their children …), sorted. */
export function descendants (topo: Topology, host: string): string[] {
  const children = new Map<string, string[]>()
  for (const [h, p] of topo.pairs()) children.set(p, [...children.get(p) ?? [], h])
  const out = new Set<string>()
  const todo = [host]
  while (todo.length > 0) {
    for (const c of children.get(todo.pop()!) ?? []) {
      if (c === host || out.has(c)) continue
      out.add(c)
      todo.push(c)
    }
  }
  return [...out].sort()
}

/** downHosts are the hosts with an open incident of a heartbeat rule (host_down, kiosk_down, device_down …). */
export function downHosts (open: readonly Incident[], heartbeatRules: ReadonlySet<string>): Set<string> {
  const out = new Set<string>()
  for (const i of open) if (i.resolved_at === null && heartbeatRules.has(i.rule)) out.add(i.host)
  return out
}

/** impactText is what a parent's incident says about the hosts it took down, in both languages. */
export function impactText (children: readonly string[]): { ja: string, en: string } {
  const shown = children.slice(0, 20).join(', ') + (children.length > 20 ? ', …' : '')
  return {
    ja: `配下の ${children.length} 台が到達不能です (個別の通知は抑止): ${shown}`,
    en: `${children.length} hosts behind it are unreachable (their own alerts are suppressed): ${shown}`
  }
}
