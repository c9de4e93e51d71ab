// kanshi-collector archive verify | archive keygen | logs export: the log archive's commands.
// verify and export read only the archive directory (and the public key), never kanshi's database.

import { existsSync, writeFileSync } from 'node:fs'
import type { KeyObject } from 'node:crypto'
import { loadCollectorConfig } from '../config.js'
import { loadPublicKey, newKeyPair } from '../archive/manifest.js'
import { verifyArchive } from '../archive/verify.js'
import { exportLogs } from '../archive/export.js'

const DAY = /^\d{4}-\d{2}-\d{2}$/
const fail = (msg: string, rc = 2): number => { process.stderr.write(`kanshi-collector: ${msg}\n`); return rc }

/** badDay names a --from/--to that is not YYYY-MM-DD, or undefined when both are fine. */
function badDay (from: string | undefined, to: string | undefined): string | undefined {
  for (const [k, v] of [['--from', from], ['--to', to]] as const) {
    if (v !== undefined && (!DAY.test(v) || Number.isNaN(Date.parse(v)))) return `${k}: expected a day YYYY-MM-DD, got ${JSON.stringify(v)}`
  }
  if (from !== undefined && to !== undefined && from > to) return `--from ${from} is after --to ${to}`
  return undefined
}

export function archiveVerify (file: string, from: string | undefined, to: string | undefined): number {
  const bad = badDay(from, to)
  if (bad !== undefined) return fail(bad)
  const config = loadCollectorConfig(file)
  const a = config.archive
  const keyFile = a.publicKey !== '' ? a.publicKey : a.signingKey
  if (keyFile === '') return fail(`${file}: archive.publicKey: expected the path of the archive's PEM Ed25519 public key to check the manifests' signatures`)
  let pub: KeyObject
  try { pub = loadPublicKey(keyFile) } catch (err) { return fail((err as Error).message) }
  const r = verifyArchive(a.dir, pub, from, to)
  if (r.fault !== undefined) {
    const where = r.fault.record !== undefined ? `${r.fault.file}: record ${r.fault.record}` : r.fault.file
    return fail(`archive verify FAILED / 検証失敗: ${where}: ${r.fault.message}`, 1)
  }
  const open = r.open !== undefined ? `; ${r.open} is still open (not yet signed) / ${r.open} は未締め` : ''
  process.stdout.write(`${a.dir}: ${r.days} days, ${r.records} records, chain and signatures intact / ${r.days} 日分 ${r.records} 件、改ざんなし${open}\n`)
  return 0
}

export function archiveKeygen (out: string | undefined): number {
  if (out === undefined) return fail('usage: archive keygen --out FILE')
  if (existsSync(out)) return fail(`${out} exists: refusing to overwrite a signing key (the days it signed verify only with its public key)`)
  const { privatePem, publicPem } = newKeyPair()
  writeFileSync(out, privatePem, { mode: 0o600, flag: 'wx' })
  writeFileSync(`${out}.pub`, publicPem, { mode: 0o644, flag: 'wx' })
  process.stdout.write(`private key (archive.signingKey; keep it secret) / 秘密鍵: ${out}\npublic key (for auditors: archive.publicKey) / 公開鍵: ${out}.pub\n`)
  return 0
}

export interface ExportArgs { from?: string, to?: string, host?: string, level?: string, match?: string, format?: string, out?: string }

export async function logsExport (file: string, x: ExportArgs): Promise<number> {
  const usage = 'usage: logs export --from D --to D [--host H] [--level L] [--match RE] --format csv|jsonl --out FILE --config FILE'
  if (x.from === undefined || x.to === undefined || x.out === undefined) return fail(usage)
  if (x.format !== 'csv' && x.format !== 'jsonl') return fail(`--format: expected csv or jsonl, got ${JSON.stringify(x.format)}`)
  const bad = badDay(x.from, x.to)
  if (bad !== undefined) return fail(bad)
  let match: RegExp | undefined
  try { match = x.match === undefined ? undefined : new RegExp(x.match, 'u') } catch (err) { return fail(`--match: expected a regular expression: ${(err as Error).message}`) }
  const config = loadCollectorConfig(file)
  const r = await exportLogs({
    dir: config.archive.dir, from: x.from, to: x.to, format: x.format, out: x.out,
    ...(x.host !== undefined ? { host: x.host } : {}), ...(x.level !== undefined ? { level: x.level } : {}), ...(match !== undefined ? { match } : {})
  })
  process.stdout.write(`${x.out}: ${r.events} log events from ${r.days} days / ${r.days} 日分から ${r.events} 件\n`)
  if (r.gaps > 0) process.stderr.write(`kanshi-collector: the archive records ${r.gaps} events it could not keep (full disk) in these days / 書き込めなかった ${r.gaps} 件の記録あり\n`)
  if (r.unreadable > 0) process.stderr.write(`kanshi-collector: ${r.unreadable} unreadable lines skipped: run "archive verify" / 読めない行 ${r.unreadable} 件\n`)
  return 0
}
