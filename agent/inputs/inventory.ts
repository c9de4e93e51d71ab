// inventory (構成管理): the OS, its version and build, the last installed update,
// whether a reboot is pending, and the agent's version — read at start and then
// every 6 hours in the background (rpm and PowerShell take seconds), handed
// over at the next gather as one `inventory` point.

import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { release } from 'node:os'
import { join } from 'node:path'
import { VERSION } from '../../protocol/version.js'
import type { Accumulator, Fields, Input, InputContext } from './input.js'

export interface Inventory {
  os_id: string
  os_name: string
  os_version: string
  os_build: string
  kernel?: string
  /** Unix ms of the newest installed update (absent: none found) */
  last_update?: number
  pending_reboot?: boolean
}

/** parseOsRelease reads /etc/os-release (KEY=value, values optionally quoted). */
export function parseOsRelease (text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
    if (m === null) continue
    let v = m[2]!
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1).replace(/\\(["$`\\])/g, '$1')
    out[m[1]!] = v
  }
  return out
}

/** localTime reads "YYYY-MM-DD HH:MM:SS" in the host's own time zone (as dpkg and apt write it). */
function localTime (d: string, t: string): number | undefined {
  const a = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d)
  const b = /^(\d{2}):(\d{2}):(\d{2})$/.exec(t)
  if (a === null || b === null) return undefined
  return new Date(+a[1]!, +a[2]! - 1, +a[3]!, +b[1]!, +b[2]!, +b[3]!).getTime()
}

/** lastDpkgUpdate is the newest "install" or "upgrade" action in a dpkg.log. */
export function lastDpkgUpdate (text: string): number | undefined {
  let last: number | undefined
  for (const m of text.matchAll(/^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) (?:install|upgrade) /gm)) {
    const t = localTime(m[1]!, m[2]!)
    if (t !== undefined && (last === undefined || t > last)) last = t
  }
  return last
}

/** lastAptUpdate is the End-Date of the newest apt history entry that installed or upgraded packages. */
export function lastAptUpdate (text: string): number | undefined {
  let last: number | undefined
  for (const block of text.split(/\n\s*\n/)) {
    if (!/^(?:Install|Upgrade):/m.test(block)) continue
    const m = /^End-Date: (\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2})/m.exec(block)
    const t = m === null ? undefined : localTime(m[1]!, m[2]!)
    if (t !== undefined && (last === undefined || t > last)) last = t
  }
  return last
}

/** lastRpmUpdate reads `rpm -qa --qf '%{INSTALLTIME}\n'`: the newest install time, seconds → ms. */
export function lastRpmUpdate (text: string): number | undefined {
  let max = 0
  for (const l of text.split('\n')) { const n = Number(l.trim()); if (Number.isSafeInteger(n) && n > max) max = n }
  return max > 0 ? max * 1000 : undefined
}

/** WINDOWS_SCRIPT prints one JSON object: Win32_OperatingSystem, the UBR, the newest hotfix and the reboot-pending keys. */
export const WINDOWS_SCRIPT = [
  '[Console]::OutputEncoding = [Text.Encoding]::UTF8',
  '$os = Get-CimInstance Win32_OperatingSystem',
  "$cv = Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion' -ErrorAction SilentlyContinue",
  '$hf = Get-HotFix -ErrorAction SilentlyContinue | Where-Object { $_.InstalledOn } | Sort-Object InstalledOn -Descending | Select-Object -First 1',
  "$pending = (Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending') -or (Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired')",
  "[pscustomobject]@{ caption = $os.Caption; version = $os.Version; build = $os.BuildNumber; ubr = $cv.UBR; displayVersion = $cv.DisplayVersion; hotfix = $(if ($hf) { $hf.HotFixID } else { $null }); lastHotfix = $(if ($hf) { $hf.InstalledOn.ToUniversalTime().ToString('o') } else { $null }); pendingReboot = [bool]$pending } | ConvertTo-Json -Compress"
].join('\n')

/** parseWindowsInventory reads WINDOWS_SCRIPT's output. */
export function parseWindowsInventory (text: string): Inventory {
  const start = text.indexOf('{')
  if (start < 0) throw new Error(`inventory: PowerShell printed no JSON: ${text.trim().split(/\r?\n/)[0] ?? ''}`)
  const o = JSON.parse(text.slice(start, text.lastIndexOf('}') + 1)) as Record<string, unknown>
  const s = (v: unknown): string => typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : ''
  const build = s(o['build'])
  const ubr = s(o['ubr'])
  const hot = typeof o['lastHotfix'] === 'string' ? Date.parse(o['lastHotfix']) : NaN
  const dv = s(o['displayVersion'])
  return {
    os_id: 'windows',
    os_name: s(o['caption']) || 'Windows',
    // "10.0.19045" is every Windows 10; the display version ("22H2") says which one.
    os_version: dv !== '' ? `${s(o['version'])} (${dv})` : s(o['version']),
    os_build: ubr !== '' && build !== '' ? `${build}.${ubr}` : build,
    ...(Number.isFinite(hot) ? { last_update: hot } : {}),
    pending_reboot: o['pendingReboot'] === true
  }
}

function run (cmd: string, args: string[], timeoutMs: number): Promise<{ code: number, out: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, windowsHide: true, encoding: 'utf8' }, (err, out, errOut) => {
      if (err !== null && typeof err.code !== 'number') reject(new Error(`${cmd}: ${(errOut || err.message).trim().split(/\r?\n/)[0]}`))
      else resolve({ code: typeof err?.code === 'number' ? err.code : 0, out })
    })
  })
}

const readText = async (p: string): Promise<string | undefined> => { try { return await readFile(p, 'utf8') } catch { return undefined } }
const newest = (...xs: Array<number | undefined>): number | undefined => xs.reduce<number | undefined>((a, b) => b === undefined ? a : a === undefined || b > a ? b : a, undefined)

/** linuxInventory reads the files under root ("/" on a live host; a test may point elsewhere). */
export async function linuxInventory (root = '/', rpm = existsSync('/usr/bin/rpm') || existsSync('/bin/rpm')): Promise<Inventory> {
  const osr = parseOsRelease((await readText(join(root, 'etc/os-release'))) ?? (await readText(join(root, 'usr/lib/os-release'))) ?? '')
  const debianVersion = (await readText(join(root, 'etc/debian_version')))?.trim()
  const dpkg = newest(...await Promise.all(['var/log/dpkg.log', 'var/log/dpkg.log.1'].map(async p => { const x = await readText(join(root, p)); return x === undefined ? undefined : lastDpkgUpdate(x) })))
  const apt = newest(...await Promise.all(['var/log/apt/history.log', 'var/log/apt/history.log.1'].map(async p => { const x = await readText(join(root, p)); return x === undefined ? undefined : lastAptUpdate(x) })))
  let rpmLast: number | undefined
  if (rpm) rpmLast = lastRpmUpdate((await run('rpm', ['-qa', '--qf', '%{INSTALLTIME}\\n'], 120_000)).out)
  let pending = existsSync(join(root, 'var/run/reboot-required')) || existsSync(join(root, 'run/reboot-required'))
  // RHEL and its rebuilds: needs-restarting -r exits 1 when a reboot is needed.
  if (!pending && root === '/' && existsSync('/usr/bin/needs-restarting')) pending = (await run('/usr/bin/needs-restarting', ['-r'], 60_000).catch(() => ({ code: 0 }))).code === 1
  const last = newest(dpkg, apt, rpmLast)
  return {
    os_id: osr['ID'] ?? 'linux',
    os_name: osr['NAME'] ?? 'Linux',
    os_version: osr['VERSION_ID'] ?? '',
    // Debian's point release (12.8) is in debian_version; elsewhere VERSION_ID is already precise (9.4).
    os_build: debianVersion !== undefined && /^\d/.test(debianVersion) ? debianVersion : osr['VERSION'] ?? osr['VERSION_ID'] ?? '',
    kernel: release(),
    ...(last !== undefined ? { last_update: last } : {}),
    pending_reboot: pending
  }
}

export async function windowsInventory (command = 'powershell.exe'): Promise<Inventory> {
  const r = await run(command, ['-NoProfile', '-NonInteractive', '-Command', WINDOWS_SCRIPT], 300_000)
  return parseWindowsInventory(r.out)
}

/** inventoryFields is the inventory point's fields (DESIGN: os_name, os_version, os_build, last_update, pending_reboot, agent_version). */
export function inventoryFields (i: Inventory): Fields {
  return {
    os_id: i.os_id,
    os_name: i.os_name,
    os_version: i.os_version,
    os_build: i.os_build,
    ...(i.kernel !== undefined ? { kernel: i.kernel } : {}),
    ...(i.last_update !== undefined ? { last_update: i.last_update } : {}),
    ...(i.pending_reboot !== undefined ? { pending_reboot: i.pending_reboot ? 1 : 0 } : {}),
    agent_version: VERSION
  }
}

export interface InventoryOptions {
  intervalMs: number
  platform?: NodeJS.Platform
  /** how to read the inventory (tests) */
  read?: () => Promise<Inventory>
  now?: () => number
}

/** InventoryInput reads at start and every intervalMs; gather hands over the newest reading once. */
export class InventoryInput implements Input {
  readonly name = 'inventory'
  private ready: { t: number, f: Fields } | undefined
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private ctx: InputContext | undefined
  private lastError = ''

  constructor (private readonly o: InventoryOptions) {}

  start (ctx: InputContext): void {
    this.ctx = ctx
    this.running = this.collect()
    this.timer = setInterval(() => { this.running ??= this.collect() }, this.o.intervalMs)
    this.timer.unref()
  }

  /** collect reads once; a failure is logged when it first appears or changes, and the next interval tries again. */
  async collect (): Promise<void> {
    const now = this.o.now ?? Date.now
    try {
      const platform = this.o.platform ?? process.platform
      const inv = await (this.o.read ?? (platform === 'win32' ? windowsInventory : async () => await linuxInventory()))()
      this.ready = { t: now(), f: inventoryFields(inv) }
      this.lastError = ''
    } catch (err) {
      const msg = (err as Error).message ?? String(err)
      if (msg !== this.lastError) this.ctx?.logger.warn({ err: msg }, 'inventory failed')
      this.lastError = msg
    } finally {
      this.running = undefined
    }
  }

  async gather (acc: Accumulator): Promise<void> {
    const r = this.ready
    this.ready = undefined
    if (r !== undefined) acc.add('inventory', r.f, {}, r.t)
  }

  async close (): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    await this.running
  }
}
