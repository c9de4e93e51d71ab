// logs: entries in agent.yaml — each mistake gives one line naming the file,
// the entry and the key; good entries become sources with documented defaults.

import t from 'tap'
import { checkAgentConfig } from '../../agent/config.js'
import { ConfigError } from '../../common/config.js'

const base = { collector: { url: 'ws://c/v1/agent', token: 't' } }
const file = '/etc/kanshi/agent.yaml'

const bad: Array<[logs: unknown[], key: string, expected: RegExp]> = [
  [[{ path: '/var/log/a.log', encoding: 'sjis' }], 'logs.0.encoding', /one of utf8, shift_jis, cp932, euc-jp, latin1, got "sjis"/],
  [[{ type: 'file' }], 'logs.0(file).path', /a file path or glob for a file source, got missing/],
  [[{ path: '/a.log', units: ['nginx.service'] }], 'logs.0(/a.log).units', /no units for a file source \(it applies to journald or winevent sources\)/],
  [[{ type: 'journald', path: '/a.log' }], 'logs.0(/a.log).path', /no path for a journald source/],
  [[{ path: '/a.log', multiline: { start: '([' } }], 'logs.0(/a.log).multiline.start', /a valid regular expression, got "\(\["/],
  [[{ path: '/a.log', multiline: {} }], 'logs.0.multiline.start', /a regular expression matching the first line of a record, got missing/],
  [[{ path: '/a.log', levels: { fatal: 'x' } }], 'logs.0(/a.log).levels.fatal', /a level name \(emerg, alert, crit, error, warning, notice, info, debug\), got "fatal"/],
  [[{ path: '/a.log', exclude: ['ok', '*'] }], 'logs.0(/a.log).exclude.1', /a valid regular expression/],
  [[{ path: '/a.log', maxLineBytes: 'huge' }], 'logs.0(/a.log).maxLineBytes', /a size such as "256MiB", "1GiB" or a number of bytes of at least 64, got "huge"/],
  [[{ path: '/a.log', rateLimit: -1 }], 'logs.0.rateLimit', /lines per second/],
  [[{ path: '/a.log' }, { path: '/a.log' }], 'logs.1(/a.log).name', /a unique name for each logs entry, got "\/a.log" twice/],
  [[{ path: '/a.log', pathes: ['/b.log'] }], 'logs.0.pathes', /unknown key \(a typo\?\)/],
  [[{ type: 'eventlog' }], 'logs.0.type', /one of file, journald, winevent/],
  [[{ type: 'winevent', interval: 'often' }], 'logs.0(winevent).interval', /a duration such as "10s"/]
]

for (const [logs, key, expected] of bad) {
  t.test(`bad logs entry: ${key}`, async t => {
    let err: unknown
    try { checkAgentConfig(file, { ...base, logs }, {}) } catch (e) { err = e }
    t.ok(err instanceof ConfigError, 'throws ConfigError')
    const msg = (err as Error).message
    t.ok(msg.startsWith(`${file}: ${key}:`), `names file and key: ${msg}`)
    t.match(msg, expected)
    t.notMatch(msg, /\n/, 'one line')
  })
}

t.test('defaults and types', async t => {
  const c = checkAgentConfig(file, {
    ...base,
    logs: [
      { path: 'app/*.log' },
      { name: 'kiosk', path: ['C:/kanshi/a.log'], encoding: 'cp932', multiline: { start: '^\\d' }, levels: { warning: 'WARN', crit: 'FATAL' }, minLevel: 'warning', rateLimit: 0 },
      { type: 'journald', units: ['nginx.service'] },
      { type: 'winevent', channel: 'System', providers: ['Service Control Manager'] }
    ]
  }, {})
  const [app, kiosk] = c.logs.files
  t.same(app!.paths, ['/etc/kanshi/app/*.log'], 'relative paths resolve from the config file')
  t.equal(app!.name, 'app/*.log')
  t.equal(app!.encoding, 'utf8')
  t.equal(app!.startAt, 'end')
  t.equal(app!.rateLimit, 500)
  t.equal(app!.burst, 5000)
  t.equal(app!.maxLineBytes, 16 * 1024)
  t.equal(app!.rotateWaitMs, 5000)
  t.equal(app!.minLevel, 'debug')
  t.equal(kiosk!.multiline?.maxLines, 500)
  t.equal(kiosk!.multiline?.maxBytes, 64 * 1024)
  t.equal(kiosk!.multiline?.timeoutMs, 2000)
  t.same(kiosk!.levels.map(l => l[0]), ['crit', 'warning'], 'custom levels are checked most severe first')
  t.equal(kiosk!.burst, 1, 'no limit')
  t.equal(c.logs.journald[0]!.name, 'nginx.service')
  t.equal(c.logs.journald[0]!.command, 'journalctl')
  t.equal(c.logs.winevent[0]!.intervalMs, 10_000)
  t.equal(c.logs.winevent[0]!.command, 'powershell.exe')
  t.equal(c.logPollInterval, 1000)
})
