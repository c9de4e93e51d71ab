// type: command with encoding: a plugin printing CP932 (Japanese Windows) is read right with
// cp932 / shift_jis, and garbled without; UTF-8 stays the default. Real child processes write
// the bytes; the expected text is what the test encoded.

import t from 'tap'
import iconv from 'iconv-lite'
import { commandCheck, type PluginEncoding } from '../../agent/inputs/checks/nagios.js'
import { checkAgentConfig } from '../../agent/config.js'

const MESSAGE = 'CRITICAL - ディスク残量不足 ①㈱ ドライブ D:'
const PERF = 'free=5%;20;10'

/** A plugin (node) that writes these bytes to stdout and stderr and exits with code. */
const plugin = (stdout: Buffer, stderr: Buffer, code: number): string[] =>
  [process.execPath, '-e', `process.stdout.write(Buffer.from('${stdout.toString('hex')}', 'hex')); process.stderr.write(Buffer.from('${stderr.toString('hex')}', 'hex')); process.exitCode = ${code}`]

type R = { up: boolean, message: string, fields: Record<string, number> }
const run = async (command: string[], encoding?: PluginEncoding): Promise<R> =>
  await commandCheck({ command, timeoutMs: 10_000, ...(encoding !== undefined ? { encoding } : {}) })(new AbortController().signal) as R

t.test('cp932 and shift_jis read a CP932 plugin; the default utf-8 does not', async t => {
  const bytes = iconv.encode(`${MESSAGE} | ${PERF}\n`, 'cp932')
  t.notSame(bytes, Buffer.from(`${MESSAGE} | ${PERF}\n`), 'the plugin\'s bytes are not UTF-8')
  for (const enc of ['cp932', 'shift_jis'] as const) {
    const r = await run(plugin(bytes, Buffer.alloc(0), 2), enc)
    t.equal(r.message, MESSAGE, `${enc}: the message as the plugin meant it`)
    t.same([r.up, r.fields['status'], r.fields['free_percent']], [false, 2, 5], `${enc}: status and perfdata`)
  }
  const garbled = await run(plugin(bytes, Buffer.alloc(0), 2))
  t.not(garbled.message, MESSAGE, 'utf-8 (default): not the message')
  t.match(garbled.message, /\uFFFD/, 'utf-8 (default): invalid bytes become U+FFFD, never an exception')
  t.equal(garbled.fields['free_percent'], 5, 'the ASCII perfdata is read either way')
})

t.test('stderr is decoded too (a plugin that only complains there)', async t => {
  const r = await run(plugin(Buffer.alloc(0), iconv.encode('UNKNOWN - 設定ファイルが見つかりません\n', 'cp932'), 3), 'cp932')
  t.equal(r.message, 'UNKNOWN - 設定ファイルが見つかりません')
  t.equal(r.fields['status'], 3)
})

t.test('utf-8 plugins are unchanged, by default and when named', async t => {
  const bytes = Buffer.from(`OK - 正常 | ${PERF}\n`)
  for (const enc of [undefined, 'utf-8'] as const) {
    const r = await run(plugin(bytes, Buffer.alloc(0), 0), enc)
    t.same([r.message, r.up, r.fields['free_percent']], ['OK - 正常', true, 5], `encoding ${enc ?? '(default)'}`)
  }
})

t.test('agent.yaml: encoding is checked and reaches the check', async t => {
  const base = { collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 'x' } }
  const bytes = iconv.encode(`${MESSAGE}\n`, 'cp932')
  const cfg = checkAgentConfig('/etc/kanshi/agent.yaml', { ...base, checks: [{ name: 'win', type: 'command', command: plugin(bytes, Buffer.alloc(0), 1), encoding: 'cp932' }] })
  const r = await cfg.checks[0]!.check(new AbortController().signal) as R
  t.equal(r.message, MESSAGE, 'the configured encoding decodes the output')
  t.throws(() => checkAgentConfig('/etc/kanshi/agent.yaml', { ...base, checks: [{ name: 'win', type: 'command', command: ['x'], encoding: 'euc-jp' }] }),
    /^\/etc\/kanshi\/agent\.yaml: checks\.0(\(win\))?\.encoding: expected one of utf-8, cp932, shift_jis/)
})
