// Limits enforced at the collector's boundary; the agent keeps its batches inside them.

export const Limits = Object.freeze({
  maxFrameBytes: 4 * 1024 * 1024,
  maxPointsPerBatch: 20_000,
  maxEventsPerBatch: 5_000,
  maxTagsPerPoint: 32,
  maxFieldsPerPoint: 256,
  maxNameLength: 128,
  maxTagValueLength: 256,
  maxStringFieldLength: 16 * 1024,
  maxEventMessageLength: 16 * 1024,
  maxEventSourceLength: 1024,
  maxEventLevelLength: 16,
  /** the latest time a point or event may carry (ms): the end of the JavaScript Date range */
  maxTimeMs: 8_640_000_000_000_000
})
