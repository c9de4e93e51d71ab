// The push policy as the agent config builds it: the agent.yaml defaults refuse tags, string fields
// and events; push.allowMeasurements / push.allowFields reach the policy; names follow NAME.

import t from 'tap'
import { checkAgentConfig } from '../../agent/config.js'
import { NAME, refusals } from '../../agent/inputs/push/policy.js'

const FILE = '/etc/kanshi/agent.yaml'
const policyOf = (push: Record<string, unknown>) => checkAgentConfig(FILE, { id: 'kiosk01', collector: { url: 'wss://c:8443/agent', token: 't' }, push: { enabled: true, ...push } }, {}).push.policy

t.test('the agent.yaml defaults refuse every tag but host, role and site', async t => {
  const p = policyOf({})
  t.same(p.allowTags, [], 'allowTags defaults to an empty list, not unset')
  const pt = { m: 'kiosk_app', t: 1, tags: { host: 'x', role: 'y', site: 'z', counter: '1番窓口' }, f: { tickets: 1, visitor: '山田' } }
  t.same(refusals(p, [pt], [{ t: 1, source: 'app', level: 'info', message: '山田様' }]), [
    'points.0.tags.counter: a tag not allowed from a push client (tags can carry free text: list "counter" in push.allowTags)',
    'points.0.f.visitor: a string field is not allowed from a push client (send numbers or booleans, or list "visitor" in push.allowStrings)',
    'events: 1 event(s) not allowed from a push client: free text is off (set push.allowEvents: true)'
  ], 'a tag, a string field and an event: each named')
  t.same(refusals(policyOf({ allowTags: ['counter'] }), [pt].map(p => ({ ...p, f: { tickets: 1 } })), []), [], 'listed in push.allowTags: passes')
})

t.test('push.allowMeasurements and push.allowFields reach the policy; unset, any NAME passes', async t => {
  const p = policyOf({ allowMeasurements: ['kiosk_app'], allowFields: ['tickets'] })
  t.same([p.allowMeasurements, p.allowFields], [['kiosk_app'], ['tickets']])
  const d = policyOf({})
  t.equal(d.allowMeasurements, undefined)
  t.same(refusals(d, [{ m: 'printer.status', t: 1, f: { 'paper-level': 3, jam_count: 0, 'http:5xx': 1 } }], []), [], 'identifiers pass')
  for (const bad of ['山田', 'a b', 'x,y', 'a=1', '', 'x'.repeat(129), 'mail@example.com']) t.notOk(NAME.test(bad), `"${bad.slice(0, 20)}" is not a name`)
})
