// The incident book of the degrading store: reads go to PostgreSQL, or to the local copy while
// degraded; operators' edits (merge, split, write-up, notices) need PostgreSQL and are refused then.

import type { AlertStore, IncidentBookApi } from '../alerting/store-api.js'

export interface BookRoutes {
  pg: () => IncidentBookApi
  local: () => IncidentBookApi
  /** runs onPg or, while degraded, onLocal (with the agent's fence) */
  call: <T>(onPg: (s: AlertStore) => Promise<T>, onLocal: (s: AlertStore, fence: string | null) => Promise<T>) => Promise<T>
  /** throws the error naming what cannot be done while degraded */
  refuse: (what: string) => never
  /** journals incidents changed while degraded */
  touch: (ids: readonly number[], fence: string | null) => void
}

export function routedBook (o: BookRoutes): IncidentBookApi {
  const { pg: pgBook, local: lb, call, refuse, touch } = o
  // An operator's edit: PostgreSQL's record only, refused (naming it) while degraded.
  const pgOnly = async <T>(what: string, f: (b: IncidentBookApi) => Promise<T>): Promise<T> => await call(async () => await f(pgBook()), async () => refuse(what))
  return {
    get: async id => await call(async () => await pgBook().get(id), async () => await lb().get(id)),
    primaryOf: async id => await call(async () => await pgBook().primaryOf(id), async () => await lb().primaryOf(id)),
    members: async p => await call(async () => await pgBook().members(p), async () => await lb().members(p)),
    mergeTarget: async (s, at, w, by) => await call(async () => await pgBook().mergeTarget(s, at, w, by), async () => await lb().mergeTarget(s, at, w, by)),
    addSystems: async (p, s) => { await call(async () => { await pgBook().addSystems(p, s) }, async (_, f) => { await lb().addSystems(p, s); touch([p], f) }) },
    merge: async (id, into) => await pgOnly('merging incidents', async b => await b.merge(id, into)),
    split: async id => await pgOnly('splitting incidents', async b => await b.split(id)),
    update: async (id, c) => await pgOnly('editing the write-up', async b => await b.update(id, c)),
    addNotice: async (p, n) => await pgOnly('publishing a notice', async b => await b.addNotice(p, n)),
    changeNotice: async (p, n, c, by, at) => await pgOnly('correcting a notice', async b => await b.changeNotice(p, n, c, by, at)),
    withdrawNotice: async (p, n, by, at) => await pgOnly('withdrawing a notice', async b => await b.withdrawNotice(p, n, by, at)),
    notices: async p => await call(async () => await pgBook().notices(p), async () => await lb().notices(p)),
    published: async since => await call(async () => await pgBook().published(since), async () => await lb().published(since))
  }
}
