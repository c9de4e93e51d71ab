import t from 'tap'
import { loadCollectorConfig } from '../../collector/config.js'
import { loadAgentConfig } from '../../agent/config.js'
import { ConfigError } from '../../common/config.js'

const dir = new URL('../fixtures/config/', import.meta.url).pathname

// Each bad config must fail with one line naming the file, the key path and what was expected.
const collectorBad: Record<string, [key: string, expected: RegExp]> = {
  'port-range.yaml': ['listen.port', /a TCP port \(0-65535\), got 99999/],
  'influx-version.yaml': ['influx.version', /1 \(InfluxDB 1\.x \/write\) or 2/],
  'v2-no-token.yaml': ['influx.token', /non-empty string when influx.version is 2 \(or KANSHI_INFLUX_TOKEN\)/],
  'short-hash.yaml': ['agents.0.tokenSha256', /hex SHA-256 .*got "abc"/],
  'dup-agent.yaml': ['agents.1.id', /unique agent id, got a second "a"/],
  'typo-key.yaml': ['listen.hots', /unknown key \(a typo\?\); expected one of host, port, tls/],
  'wal-size.yaml': ['wal.maxBytes', /a size such as "256MiB".*got "lots"/],
  'duration.yaml': ['influx.timeout', /a duration such as "10s".*got "soon"/],
  'yaml-syntax.yaml': ['line', /invalid YAML/],
  'url-scheme.yaml': ['influx.url', /http:\/\/ or https:\/\/ URL, got "localhost:8086"/]
}
const agentBad: Record<string, [key: string, expected: RegExp]> = {
  'url-scheme.yaml': ['collector.url', /ws:\/\/ or wss:\/\/ URL/],
  'no-token.yaml': ['collector.token', /KANSHI_AGENT_TOKEN, got missing/],
  'interval.yaml': ['interval', /a duration such as "10s".*got "10 seconds"/],
  'unknown-input.yaml': ['inputs.enabled.1', /cpu, mem, disk, diskio, net, system.*got "gpu"/],
  'id-space.yaml': ['id', /without spaces.*got "web 01"/],
  'backoff.yaml': ['collector.backoffMax', /at least collector.backoffMin/],
  'no-collector.yaml': ['collector', /^.*: collector: expected a map with the collector url \(and token\), got missing$/]
}

function check (load: (f: string, env: NodeJS.ProcessEnv) => unknown, sub: string, table: Record<string, [string, RegExp]>): void {
  for (const [name, [key, expected]] of Object.entries(table)) {
    const file = `${dir}${sub}/${name}`
    t.test(`${sub}/${name}`, async t => {
      let err: unknown
      try { load(file, {}) } catch (e) { err = e }
      t.ok(err instanceof ConfigError, 'throws ConfigError')
      const msg = (err as Error).message
      t.ok(msg.startsWith(`${file}: ${key}`), `names file and key: ${msg}`)
      t.match(msg, expected)
      t.notMatch(msg, /\n/, 'one line')
    })
  }
}

check(loadCollectorConfig, 'collector-bad', collectorBad)
check(loadAgentConfig, 'agent-bad', agentBad)

t.test('defaults are filled in and documented values hold', async t => {
  const c = loadCollectorConfig(`${dir}../../../examples/collector.yaml`, {})
  t.equal(c.influx.batchLines, 5000)
  t.equal(c.influx.flushInterval, 1000)
  t.equal(c.wal.maxBytes, 1024 ** 3)
  t.equal(c.ingest.hostDownAfterIntervals, 3)
  t.ok(Object.isFrozen(c.influx), 'frozen after checking')
  const a = loadAgentConfig(`${dir}../../../examples/agent.yaml`, { KANSHI_AGENT_TOKEN: 'from-env' })
  t.equal(a.collector.token, 'from-env', 'KANSHI_AGENT_TOKEN overrides the file')
  t.equal(a.interval, 10_000)
  t.equal(a.spool.maxBytes, 256 * 1024 ** 2)
})

t.test('a missing file is named', async t => {
  t.throws(() => loadAgentConfig('/nonexistent/agent.yaml', {}), { message: /^\/nonexistent\/agent.yaml: \(top level\): cannot read file \(ENOENT\)/ })
})
