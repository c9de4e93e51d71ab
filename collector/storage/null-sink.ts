// A back end that accepts everything: for benchmarks of the collector alone.

import type { SendResult } from '../../common/send-result.js'
import type { StorageBackend } from './backend.js'

export class NullSink implements StorageBackend {
  readonly name = 'null'
  lines = 0
  async write (lines: string[]): Promise<SendResult> { this.lines += lines.length; return { kind: 'ok' } }
  async prepare (): Promise<SendResult> { return { kind: 'ok' } }
  async ping (): Promise<boolean> { return true }
  async close (): Promise<void> {}
}
