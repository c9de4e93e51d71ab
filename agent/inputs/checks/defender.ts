// type: defender — Microsoft Defender Antivirus health through PowerShell's
// Get-MpComputerStatus: signature age, real-time protection, antivirus on,
// last quick scan. Written as `service` with check=defender; up when healthy
// by the thresholds. Windows only (buildChecks refuses it elsewhere).

import { execFile } from 'node:child_process'
import type { Check, CheckResult } from './types.js'

export interface DefenderOptions {
  /** signatures older than this many days make the check down (default 3) */
  maxSignatureAgeDays: number
  /** a last quick (or full) scan older than this many days makes it down (unset: not judged) */
  maxScanAgeDays?: number | undefined
  /** the PowerShell executable (tests: a stand-in) */
  command?: string
}

// Only the properties read below: ConvertTo-Json of the whole CIM object is large and slow.
export const DEFENDER_SCRIPT = [
  '[Console]::OutputEncoding = [Text.Encoding]::UTF8',
  "$ErrorActionPreference = 'Stop'",
  'Get-MpComputerStatus | Select-Object AMServiceEnabled,AntivirusEnabled,RealTimeProtectionEnabled,IsTamperProtected,' +
    'AntivirusSignatureAge,AntivirusSignatureLastUpdated,AntivirusSignatureVersion,QuickScanAge,QuickScanEndTime,FullScanAge,FullScanEndTime | ConvertTo-Json -Compress'
].join('\n')

/** DefenderStatus is what the check reads from Get-MpComputerStatus. */
export interface DefenderStatus {
  serviceEnabled: boolean | undefined
  antivirusEnabled: boolean | undefined
  realTime: boolean | undefined
  tamperProtected: boolean | undefined
  signatureAgeDays: number | undefined
  signatureVersion: string | undefined
  /** days since the newest quick or full scan ended (undefined: never scanned) */
  scanAgeDays: number | undefined
}

// Windows reports "never" as the largest value of the property's integer type.
const NEVER = new Set([65535, 4294967295])

/** psDate reads a date as ConvertTo-Json writes it: "/Date(ms)/" (Windows PowerShell 5.1) or ISO 8601 (PowerShell 7). */
export function psDate (v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined
  const m = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(v)
  const t = m !== null ? Number(m[1]) : Date.parse(v)
  // Defender writes 1601-01-01 (FILETIME zero) or 0001-01-01 for "never".
  return Number.isFinite(t) && t > Date.UTC(1990, 0, 1) ? t : undefined
}

const bool = (v: unknown): boolean | undefined => typeof v === 'boolean' ? v : undefined
const days = (v: unknown): number | undefined => typeof v === 'number' && v >= 0 && !NEVER.has(v) ? v : undefined
const DAY = 86_400_000

/** parseDefenderJson reads the script's output; undefined when it holds no status (the error text is the reason). */
export function parseDefenderJson (text: string, now: number): DefenderStatus | undefined {
  const start = text.indexOf('{')
  if (start < 0) return undefined
  let o: Record<string, unknown>
  try { o = JSON.parse(text.slice(start, text.lastIndexOf('}') + 1)) as Record<string, unknown> } catch { return undefined }
  if (Array.isArray(o)) o = (o[0] ?? {}) as Record<string, unknown>
  const ageFrom = (t: number | undefined): number | undefined => t === undefined ? undefined : Math.max(0, (now - t) / DAY)
  // The timestamps give fractional days; the *Age counters (whole days) are the fallback.
  const sig = ageFrom(psDate(o['AntivirusSignatureLastUpdated'])) ?? days(o['AntivirusSignatureAge'])
  const quick = ageFrom(psDate(o['QuickScanEndTime'])) ?? days(o['QuickScanAge'])
  const full = ageFrom(psDate(o['FullScanEndTime'])) ?? days(o['FullScanAge'])
  const scans = [quick, full].filter((x): x is number => x !== undefined)
  return {
    serviceEnabled: bool(o['AMServiceEnabled']),
    antivirusEnabled: bool(o['AntivirusEnabled']),
    realTime: bool(o['RealTimeProtectionEnabled']),
    tamperProtected: bool(o['IsTamperProtected']),
    signatureAgeDays: sig,
    signatureVersion: typeof o['AntivirusSignatureVersion'] === 'string' ? o['AntivirusSignatureVersion'] : undefined,
    scanAgeDays: scans.length > 0 ? Math.min(...scans) : undefined
  }
}

/** judgeDefender turns a status into the check's result: every problem named, fields for the dashboards. */
export function judgeDefender (s: DefenderStatus, o: DefenderOptions): CheckResult {
  const problems: string[] = []
  if (s.serviceEnabled === false) problems.push('antimalware service off')
  if (s.antivirusEnabled !== true) problems.push(s.antivirusEnabled === false ? 'antivirus disabled' : 'antivirus state unknown')
  if (s.realTime !== true) problems.push(s.realTime === false ? 'real-time protection off' : 'real-time protection unknown')
  if (s.signatureAgeDays === undefined) problems.push('signature age unknown')
  else if (s.signatureAgeDays > o.maxSignatureAgeDays) problems.push(`signatures ${s.signatureAgeDays.toFixed(1)} days old (> ${o.maxSignatureAgeDays})`)
  if (o.maxScanAgeDays !== undefined) {
    if (s.scanAgeDays === undefined) problems.push('never scanned')
    else if (s.scanAgeDays > o.maxScanAgeDays) problems.push(`last scan ${s.scanAgeDays.toFixed(1)} days ago (> ${o.maxScanAgeDays})`)
  }
  const fields: Record<string, number> = {}
  const flag = (k: string, v: boolean | undefined): void => { if (v !== undefined) fields[k] = v ? 1 : 0 }
  flag('antivirus_enabled', s.antivirusEnabled)
  flag('realtime_protection', s.realTime)
  flag('am_service_enabled', s.serviceEnabled)
  flag('tamper_protected', s.tamperProtected)
  if (s.signatureAgeDays !== undefined) fields['signature_age_days'] = Math.round(s.signatureAgeDays * 100) / 100
  if (s.scanAgeDays !== undefined) fields['scan_age_days'] = Math.round(s.scanAgeDays * 100) / 100
  const ok = `healthy: signatures ${s.signatureAgeDays?.toFixed(1) ?? '?'} days${s.signatureVersion !== undefined ? ` (${s.signatureVersion})` : ''}, real-time on`
  return { up: problems.length === 0, message: problems.length === 0 ? ok : problems.join('; '), fields }
}

/** defenderCheck runs Get-MpComputerStatus; a PowerShell error (Defender removed or replaced by another product) is down with its first line. */
export function defenderCheck (o: DefenderOptions, now: () => number = Date.now): Check {
  return async signal => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(o.command ?? 'powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', DEFENDER_SCRIPT], { signal, maxBuffer: 1024 * 1024, windowsHide: true, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err !== null && stdout.trim() === '') reject(new Error(`Get-MpComputerStatus failed: ${(stderr || err.message).trim().split(/\r?\n/)[0]}`))
        else resolve(stdout)
      })
    })
    const s = parseDefenderJson(out, now())
    if (s === undefined) return { up: false, message: `Get-MpComputerStatus returned no status: ${out.trim().split(/\r?\n/)[0] ?? ''}`.slice(0, 300) }
    return judgeDefender(s, o)
  }
}
