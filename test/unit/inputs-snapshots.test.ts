// The Linux inputs replayed over the golden /proc snapshots of
// test/fixtures/proc/<case>/: each snapshot is copied into a temporary procRoot
// and gathered in turn, 10 s apart, and every gather's points must equal the
// ones written by hand in the case's expected.json.

import t from 'tap'
import { cp, readdir, rm } from 'node:fs/promises'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { PointAccumulator } from '../../agent/inputs/input.js'
import { createSystemInputs } from '../../agent/inputs/registry.js'
import { tmpDir } from '../helpers/tmp.js'

const fixtures = new URL('../fixtures/proc/', import.meta.url).pathname

interface Expected {
  about: string
  inputs: string[]
  intervalMs: number
  gathers: Array<{ snapshot: string, points: Array<{ m: string, tags: Record<string, string>, f: Record<string, number> }> }>
}

const cases = readdirSync(fixtures).filter(c => existsSync(join(fixtures, c, 'expected.json')))
  .map(c => ({ name: c, expected: JSON.parse(readFileSync(join(fixtures, c, 'expected.json'), 'utf8')) as Partial<Expected> }))
  .filter((c): c is { name: string, expected: Expected } => c.expected.gathers?.[0]?.snapshot !== undefined)

t.ok(cases.length >= 6, `snapshot cases found: ${cases.map(c => c.name).join(', ')}`)

for (const { name, expected } of cases) {
  t.test(name, async t => {
    const root = await tmpDir(t)
    const inputs = createSystemInputs({ enabled: expected.inputs, procRoot: root, platform: 'linux' })
    for (const [i, g] of expected.gathers.entries()) {
      // Replace the whole tree: a pid directory or a file missing from this snapshot must be gone.
      for (const e of await readdir(root)) await rm(join(root, e), { recursive: true })
      await cp(join(fixtures, name, g.snapshot), root, { recursive: true })
      const now = i * expected.intervalMs
      const acc = new PointAccumulator(now)
      for (const input of inputs) await input.gather(acc, now)
      t.strictSame(acc.points.map(p => ({ m: p.m, tags: p.tags, f: p.f })), g.points, `${g.snapshot} at t=${now / 1000} s`)
      t.ok(acc.points.every(p => p.t === now), 'stamped with the gather time')
    }
  })
}
