// kanshi-host: one host ($site, $role, $host). System metrics, services, the
// agent, log collection and recent log events; firing alerts as annotations.

import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard'
import { alertAnnotation, build, frame, tagVariable } from './frame.js'
import { lines, logLines, memWarnCrit, pctWarnCrit, tablePanel, upDown, upTimeline } from './panels.js'

const HOST = `"host" =~ /^$host$/`
const SCOPE = `"site" =~ /^$site$/ AND "role" =~ /^$role$/`

export function host (): dashboard.Dashboard {
  return build(frame('kanshi-host', 'kanshi host detail / ホスト詳細', { tags: ['host'] })
    .withVariable(tagVariable('site', 'Site / 拠点', 'SHOW TAG VALUES FROM "host_up" WITH KEY = "site"'))
    .withVariable(tagVariable('role', 'Role / 役割', 'SHOW TAG VALUES FROM "host_up" WITH KEY = "role" WHERE "site" =~ /^$site$/'))
    .withVariable(tagVariable('host', 'Host / ホスト', `SHOW TAG VALUES FROM "host_up" WITH KEY = "host" WHERE ${SCOPE}`, { all: false }))
    .annotation(alertAnnotation(HOST))
    .withRow(new RowBuilder('System'))
    .withPanel(lines('CPU / CPU使用率', 'percent', [`SELECT mean("usage_percent") AS "usage", mean("user_percent") AS "user", mean("system_percent") AS "system", mean("iowait_percent") AS "iowait" FROM "cpu" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "host" fill(null)`])
      .min(0).max(100).thresholds(pctWarnCrit()).span(12).height(8))
    .withPanel(lines('Load / ロードアベレージ', 'short', [`SELECT mean("load1") AS "load1", mean("load5") AS "load5", mean("load15") AS "load15" FROM "cpu" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "host" fill(null)`]).span(12).height(8))
    .withPanel(lines('Memory / メモリ使用率', 'percent', [`SELECT mean("used_percent") AS "used", mean("swap_used_percent") AS "swap" FROM "mem" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "host" fill(null)`])
      .min(0).max(100).thresholds(memWarnCrit()).span(12).height(8))
    .withPanel(lines('Disk used per mount / ディスク使用率', 'percent', [`SELECT last("used_percent") FROM "disk" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "host", "mount" fill(null)`])
      .min(0).max(100).thresholds(pctWarnCrit()).span(12).height(8))
    .withPanel(lines('Disk I/O / ディスクI/O', 'Bps', [`SELECT mean("read_bytes_per_sec") AS "read", mean("write_bytes_per_sec") AS "write" FROM "diskio" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "device" fill(null)`]).span(12).height(8))
    .withPanel(lines('Network / 通信量', 'Bps', [`SELECT mean("rx_bytes_per_sec") AS "rx", mean("tx_bytes_per_sec") AS "tx" FROM "net" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "iface" fill(null)`]).span(12).height(8))
    .withRow(new RowBuilder('Services and logs'))
    .withPanel(upTimeline('Services / サービス状態', `SELECT last("up") FROM "service" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "service" fill(previous)`, upDown()).span(24).height(6))
    .withPanel(lines('Response time / 応答時間', 'ms', [`SELECT mean("response_ms") FROM "service" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "service" fill(null)`]).span(12).height(8))
    .withPanel(lines('Agent / エージェント', 'none', [`SELECT last("spool_batches") AS "spooled", last("clock_skew_ms") AS "skew_ms", last("rss_bytes") / 1048576 AS "rss_mib" FROM "agent" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval) fill(null)`]).span(12).height(8))
    .withPanel(lines('Log events by level / ログ件数 (レベル別)', 'short', [`SELECT count("message") FROM "kanshi_logs"."log_event" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "level" fill(0)`]).span(12).height(8))
    // Nothing dropped silently: rate-limited, truncated and lost lines, and what is still unread.
    .withPanel(tablePanel('Log collection / ログ収集状況', [`SELECT last("lines") AS "lines", last("dropped_rate_limit") AS "dropped (rate limit)", last("truncated") AS "truncated", last("lost_files") AS "lost files", last("lag_bytes") AS "unread bytes", last("errors") AS "errors" FROM "log_input" WHERE ${HOST} AND $timeFilter GROUP BY "source"`]).span(12).height(8))
    .withPanel(logLines('Recent log events / ログ', `SELECT "level", "source", "message" FROM "kanshi_logs"."log_event" WHERE ${HOST} AND $timeFilter ORDER BY time DESC LIMIT 500`).span(24).height(10)))
}
