// The one temp dir helper: a fresh directory removed at teardown. tap runs
// teardowns last-registered first, so what a test starts in the dir after
// making it (processes, collectors) is stopped before the dir goes.

import type { Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function tmpDir (t: Test): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kanshi-test-'))
  t.teardown(async () => await rm(d, { recursive: true, force: true }))
  return d
}
