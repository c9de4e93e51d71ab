// The write-ahead log: record codec, log with group commit, memory tail, readers and the consume loop.

export { Wal, type WalOptions } from './log.js'
export { WalReader } from './reader.js'
export { WalConsumer, type ConsumeHandlers } from './consume.js'
export { encodeRecord, decodeRecords, payloadBytes, HEADER_BYTES, type Position, type WalRecord } from './record.js'
export { writeAll, writevAll } from './file-io.js'
export type { RecoveryReport } from './recover.js'
