// writeConfig: the CLI commands' one way to rewrite the collector config.

import { chownSync, statSync } from 'node:fs'
import type { Document } from 'yaml'
import { writeFileAtomicSync } from '../../common/atomic-write.js'

/** writeConfig replaces the file atomically, keeping its mode and owner: the collector's service user must still read it after root edits it. */
export function writeConfig (file: string, doc: Document): void {
  const st = statSync(file)
  writeFileAtomicSync(file, doc.toString(), {
    mode: st.mode & 0o777,
    beforeRename: tmp => {
      try { chownSync(tmp, st.uid, st.gid) } catch { /* not root: the file stays ours, as it was */ }
    }
  })
}
