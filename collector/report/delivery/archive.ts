// The kept reports: outDir/<kind>/<period>/ holds a generation's files and its
// manifest (report.json, written last and atomically: a directory without one is
// an unfinished generation, neither listed nor served). Listing, lookup, retention.

import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '../../../common/atomic-write.js'
import { REPORT_KINDS, type ReportKind } from './schedule.js'

export const MANIFEST = 'report.json'
const PERIOD_RE = /^\d{4}-\d{2}(-\d{2})?$/

export interface Manifest {
  kind: ReportKind
  period: string
  /** file names inside the period's directory */
  files: string[]
  generatedAt: number
  pdfSkipped?: string | undefined
  /** the lines that need action, as the mail shows them */
  summary: string[]
}

export function periodDir (outDir: string, kind: ReportKind, period: string): string {
  return join(outDir, kind, period)
}

export async function writeManifest (outDir: string, m: Manifest): Promise<void> {
  await writeFileAtomic(join(periodDir(outDir, m.kind, m.period), MANIFEST), JSON.stringify(m, null, 2), { mode: 0o640 })
}

function readManifest (dir: string): Manifest | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest
    return Array.isArray(m.files) && typeof m.generatedAt === 'number' ? m : undefined
  } catch {
    return undefined
  }
}

/** listReports gives every finished generation, newest period first. */
export function listReports (outDir: string): Manifest[] {
  const out: Manifest[] = []
  for (const kind of REPORT_KINDS) {
    const base = join(outDir, kind)
    if (!existsSync(base)) continue
    for (const period of readdirSync(base)) {
      if (!PERIOD_RE.test(period)) continue
      const m = readManifest(join(base, period))
      if (m !== undefined) out.push({ ...m, kind, period })
    }
  }
  return out.sort((a, b) => b.period.localeCompare(a.period) || a.kind.localeCompare(b.kind))
}

/**
 * reportFile resolves a download to a path, only for a kind, period and file name the
 * manifest lists: a name that is not in the list (../, an absolute path) finds nothing.
 */
export function reportFile (outDir: string, kind: string, period: string, file: string): string | undefined {
  if (!(REPORT_KINDS as readonly string[]).includes(kind) || !PERIOD_RE.test(period)) return undefined
  const dir = periodDir(outDir, kind as ReportKind, period)
  const m = readManifest(dir)
  if (m === undefined || !m.files.includes(file) || file.includes('/') || file.includes('\\')) return undefined
  return join(dir, file)
}

/** prune removes generations older than keepMs (by generatedAt) and returns them. */
export function prune (outDir: string, keepMs: number, now: number): Array<{ kind: ReportKind, period: string }> {
  const gone: Array<{ kind: ReportKind, period: string }> = []
  for (const m of listReports(outDir)) {
    if (m.generatedAt >= now - keepMs) continue
    rmSync(periodDir(outDir, m.kind, m.period), { recursive: true, force: true })
    gone.push({ kind: m.kind, period: m.period })
  }
  return gone
}
