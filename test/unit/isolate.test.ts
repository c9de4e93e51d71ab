// Bad-batch isolation on a scripted write: refused lines end alone in onRefused, every
// other line is written exactly once, and a write that gives up (shutdown) stops it.

import t from 'tap'
import type { Refused, SendResult } from '../../common/send-result.js'
import { writeIsolating } from '../../collector/storage/isolate.js'

function store (refuse: (line: string) => boolean) {
  const written: string[] = []
  const refused: Array<[string, Refused]> = []
  let writes = 0
  const write = async (lines: string[]): Promise<SendResult> => {
    writes++
    if (lines.some(refuse)) return { kind: 'fail', reason: 'HTTP 400: partial write', status: 400 }
    written.push(...lines)
    return { kind: 'ok' }
  }
  const onRefused = async (line: string, r: Refused): Promise<void> => { refused.push([line, r]) }
  return { write, onRefused, written, refused, writes: () => writes }
}

const lines = Array.from({ length: 100 }, (_, i) => `m${i}`)

t.test('one bad line in a batch: 99 written once, the bad one refused alone, in about 2·log2(n) writes', async t => {
  const s = store(l => l === 'm37')
  t.equal(await writeIsolating(s.write, lines, s.onRefused), true)
  t.same(s.written, lines.filter(l => l !== 'm37'))
  t.same(s.refused, [['m37', { kind: 'fail', reason: 'HTTP 400: partial write', status: 400 }]])
  t.ok(s.writes() <= 1 + 2 * Math.ceil(Math.log2(100)), `${s.writes()} writes`)
})

t.test('several bad lines, first and last among them', async t => {
  const bad = new Set(['m0', 'm50', 'm51', 'm99'])
  const s = store(l => bad.has(l))
  t.equal(await writeIsolating(s.write, lines, s.onRefused), true)
  t.same(s.written, lines.filter(l => !bad.has(l)))
  t.same(s.refused.map(r => r[0]), [...bad])
})

t.test('a good batch is one write; nothing to write is none', async t => {
  const s = store(() => false)
  t.equal(await writeIsolating(s.write, lines, s.onRefused), true)
  t.equal(await writeIsolating(s.write, [], s.onRefused), true)
  t.equal(s.writes(), 1)
})

t.test('a write that gives up (retry: shutdown) ends the isolation: false, nothing more written', async t => {
  const written: string[] = []
  let n = 0
  const write = async (ls: string[]): Promise<SendResult> => {
    n++
    if (n === 1) return { kind: 'fail', reason: 'HTTP 400' }
    if (n === 2) return { kind: 'retry', reason: 'stopping' }
    written.push(...ls)
    return { kind: 'ok' }
  }
  t.equal(await writeIsolating(write, lines, async () => { t.fail('nothing refused alone') }), false)
  t.equal(n, 2, 'the second half is not written')
  t.same(written, [])
})
