import t from 'tap'
import { RateTracker, counterDelta } from '../../agent/inputs/rate.js'

t.equal(counterDelta(100, 250), 150, 'plain increase')
t.equal(counterDelta(2 ** 32 - 100, 50), 150, '32-bit wrap')
t.equal(counterDelta(5_000_000_000, 10), undefined, 'a 64-bit counter going down is a reset')
t.equal(counterDelta(1000, 10), undefined, 'small counter going down is a reset')

t.test('rates per second, undefined on the first reading and after a reset', async t => {
  const r = new RateTracker()
  t.equal(r.rate('eth0', 1000, 0), undefined)
  t.equal(r.rate('eth0', 11000, 10_000), 1000)
  t.equal(r.rate('eth0', 500, 20_000), undefined, 'reset')
  t.equal(r.rate('eth0', 1500, 30_000), 100, 'counts again from the reset')
  t.equal(r.rate('eth0', 1600, 30_000), undefined, 'no time passed')
  r.retain(new Set())
  t.equal(r.rate('eth0', 2000, 40_000), undefined, 'forgotten keys start over')
})
