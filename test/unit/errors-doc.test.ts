import t from 'tap'
import { readFileSync } from 'node:fs'
import { Errors } from '../../protocol/errors.js'

// docs/errors.md and protocol/errors.ts must list the same codes with the same status and finality.
const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
const rows = new Map<string, { status: number, final: boolean }>()
for (const m of doc.matchAll(/^\| `(E_[A-Z0-9_]+)` \| (\d{3}) \| (yes|no) \|/gm)) {
  rows.set(m[1]!, { status: Number(m[2]), final: m[3] === 'yes' })
}

t.same([...rows.keys()].sort(), Object.keys(Errors).sort(), 'the same codes in code and docs')
for (const [code, e] of Object.entries(Errors)) {
  t.equal(e.code, code, `${code}: key equals code`)
  t.same(rows.get(code), { status: e.status, final: e.final }, `${code}: status and finality documented`)
}
