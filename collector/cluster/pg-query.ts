// The PostgreSQL side of the alerting store: one query function that runs on the current
// transaction's client when there is one (AsyncLocalStorage) and on the pool otherwise,
// with bigint (ms times, ids) read as numbers.

import { AsyncLocalStorage } from 'node:async_hooks'
import pg from 'pg'

/** int8 and numeric as JS numbers: ids and ms times stay far below 2^53. */
const TYPES = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => oid === 20 || oid === 1700
    ? (v: string) => Number(v)
    : pg.types.getTypeParser(oid, format as 'text')
}

export type Row = Record<string, unknown>
export type Query = <R extends Row = Row>(sql: string, values?: unknown[]) => Promise<{ rows: R[], rowCount: number }>

export interface TxState { client: pg.PoolClient, open: boolean }

/** PgRunner: q() runs on the open transaction of the caller's async context, else on the pool. */
export class PgRunner {
  readonly inTx = new AsyncLocalStorage<TxState>()

  constructor (readonly pool: pg.Pool) {}

  current (): TxState | undefined {
    const s = this.inTx.getStore()
    return s?.open === true ? s : undefined
  }

  q: Query = async <R extends Row = Row>(sql: string, values: unknown[] = []) => {
    const on = this.current()?.client ?? this.pool
    const r = await on.query<R>({ text: sql, values, types: TYPES })
    return { rows: r.rows, rowCount: r.rowCount ?? 0 }
  }

  /** tx runs fn in one transaction (joining the caller's); begin runs first inside it (the fence). */
  async tx<T> (fn: () => Promise<T>, begin?: (q: Query) => Promise<void>): Promise<T> {
    if (this.current() !== undefined) {
      if (begin !== undefined) await begin(this.q)
      return await fn()
    }
    const client = await this.pool.connect()
    const state: TxState = { client, open: true }
    let broken = false
    try {
      await client.query('BEGIN')
      try {
        const r = await this.inTx.run(state, async () => {
          if (begin !== undefined) await begin(this.q)
          return await fn()
        })
        await client.query('COMMIT')
        return r
      } catch (err) {
        await client.query('ROLLBACK').catch(() => { broken = true })
        throw err
      }
    } finally {
      state.open = false
      client.release(broken)
    }
  }
}
