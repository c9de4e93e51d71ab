// The collector's own metrics (prom-client), created on a registry passed in,
// so tests and several apps in one process never share a singleton.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export function createMetrics (registry = new Registry(), defaults = true) {
  if (defaults) {
    collectDefaultMetrics({ register: registry, prefix: 'kanshi_collector_' })
    // These gauges end in _total, which the exposition format reserves for counters (promtool rejects them).
    for (const n of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(`kanshi_collector_${n}`)
    }
  }
  const r = [registry]
  return {
    registry,
    connections: new Gauge({ name: 'kanshi_agent_connections', help: 'Agent WebSocket connections open now', registers: r }),
    connectionsTotal: new Counter({ name: 'kanshi_agent_connections_total', help: 'Agent WebSocket connections accepted', registers: r }),
    authFailures: new Counter({ name: 'kanshi_auth_failures_total', help: 'Agent connections refused at authentication', labelNames: ['reason'], registers: r }),
    frames: new Counter({ name: 'kanshi_frames_received_total', help: 'Frames received from agents by message type', labelNames: ['type'], registers: r }),
    framesOut: new Counter({ name: 'kanshi_frames_sent_total', help: 'Frames sent to agents by message type', labelNames: ['type'], registers: r }),
    points: new Counter({ name: 'kanshi_points_received_total', help: 'Points accepted into the write-ahead log', registers: r }),
    events: new Counter({ name: 'kanshi_log_events_received_total', help: 'Log events accepted into the write-ahead log', registers: r }),
    duplicates: new Counter({ name: 'kanshi_batches_duplicate_total', help: 'Resent batches acked again without storing (seq <= ackedSeq)', registers: r }),
    errors: new Counter({ name: 'kanshi_errors_total', help: 'Refusals and failures by error code', labelNames: ['code'], registers: r }),
    ackLatency: new Histogram({ name: 'kanshi_ack_latency_seconds', help: 'Batch received to ack sent (includes the WAL fsync)', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: r }),
    walBytes: new Gauge({ name: 'kanshi_wal_bytes', help: 'Bytes held in the write-ahead log', registers: r }),
    walMaxBytes: new Gauge({ name: 'kanshi_wal_max_bytes', help: 'Byte bound of the write-ahead log; appends are refused above it', registers: r }),
    walOldestAge: new Gauge({ name: 'kanshi_wal_oldest_record_age_seconds', help: 'Age of the oldest record a reader has not consumed (0 when caught up)', labelNames: ['reader'], registers: r }),
    walFsync: new Histogram({ name: 'kanshi_wal_fsync_seconds', help: 'Duration of one group commit, until its records are on the disk (an O_DSYNC write; write + fdatasync where O_DSYNC is missing)', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: r }),
    walRecords: new Counter({ name: 'kanshi_wal_records_total', help: 'Records appended to the write-ahead log', registers: r }),
    walTornBytes: new Gauge({ name: 'kanshi_wal_recovery_torn_bytes', help: 'Bytes cut from torn or corrupt WAL tails at the last start', registers: r }),
    walRecovered: new Gauge({ name: 'kanshi_wal_recovery_records', help: 'Whole records found in the WAL at the last start', registers: r }),
    storageUp: new Gauge({ name: 'kanshi_storage_up', help: '1 when the last write to the storage back end succeeded', labelNames: ['backend', 'target'], registers: r }),
    pointsWritten: new Counter({ name: 'kanshi_storage_points_written_total', help: 'Lines written to the storage back end', labelNames: ['backend', 'target'], registers: r }),
    writeDuration: new Histogram({ name: 'kanshi_storage_write_duration_seconds', help: 'Duration of one write request to the storage back end', labelNames: ['backend', 'result', 'target'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: r }),
    writeRetries: new Counter({ name: 'kanshi_storage_write_retries_total', help: 'Write attempts that will be retried', labelNames: ['backend', 'target'], registers: r }),
    writerRestarts: new Counter({ name: 'kanshi_storage_writer_restarts_total', help: 'Times the storage write loop failed on an unexpected error and was started again', labelNames: ['target'], registers: r }),
    storageSkipped: new Counter({ name: 'kanshi_storage_skipped_points_total', help: 'Points one InfluxDB target never got: it was down while the WAL neared its bound, and its backlog was given up so the other targets and ingest could go on (influx.lagFraction)', labelNames: ['target'], registers: r }),
    storageLag: new Gauge({ name: 'kanshi_storage_lag_bytes', help: 'WAL bytes an InfluxDB target has not yet stored', labelNames: ['target'], registers: r }),
    logsSwept: new Counter({ name: 'kanshi_log_retention_sweeps_total', help: 'Deletions run for influx.retention.logsBy, by target and result (ok, fail)', labelNames: ['target', 'result'], registers: r }),
    archiveExcluded: new Counter({ name: 'kanshi_archive_excluded_events_total', help: 'Log events left out of the archive because an influx.retention.logsBy rule keeps them shorter than the archive', registers: r }),
    deadLettered: new Counter({ name: 'kanshi_dead_letter_points_total', help: 'Points refused for good by the storage back end and moved to the dead-letter file', labelNames: ['backend', 'target'], registers: r }),
    deadLetterDropped: new Counter({ name: 'kanshi_dead_letter_dropped_total', help: 'Refused points not kept because the dead-letter file reached its bound', registers: r }),
    flowWait: new Counter({ name: 'kanshi_ingest_flow_wait_seconds_total', help: 'Time batches waited before storing because a WAL reader was far behind (flow control), by reader', labelNames: ['reader'], registers: r }),
    rollupLate: new Counter({ name: 'kanshi_rollup_late_points_total', help: 'Points that arrived after their 5-minute rollup bucket closed (kept raw, not in the rollup)', registers: r }),
    rollupRepairs: new Counter({ name: 'kanshi_rollup_repairs_total', help: 'Rollup buckets a failover cut, repaired from raw data, by result (done, failed: retried, skipped: raw data expired or empty)', labelNames: ['result'], registers: r }),
    mails: new Counter({ name: 'kanshi_alert_mails_total', help: 'Alert mail send attempts by kind and result (ok, retry, fail)', labelNames: ['kind', 'result'], registers: r }),
    archiveUp: new Gauge({ name: 'kanshi_archive_up', help: '1 while the log archive writes (0: a write failed, e.g. a full disk; the WAL keeps the records)', registers: r }),
    archiveEvents: new Counter({ name: 'kanshi_archive_events_total', help: 'Log events written to the tamper-evident archive', registers: r }),
    archiveSkipped: new Counter({ name: 'kanshi_archive_skipped_events_total', help: 'Log events not archived because the archive could not write while the WAL neared its bound (archive.holdFraction)', registers: r }),
    devicePointsRefused: new Counter({ name: 'kanshi_device_points_refused_total', help: 'Points and events with a device tag refused because their agent may not poll that device (agents[].devices), by agent', labelNames: ['agent'], registers: r }),
    hostUp: new Counter({ name: 'kanshi_host_up_transitions_total', help: 'host_up changes written by the collector', labelNames: ['up'], registers: r })
  }
}

export type Metrics = ReturnType<typeof createMetrics>
