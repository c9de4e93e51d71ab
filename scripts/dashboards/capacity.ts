// kanshi-capacity: the capacity review over 90 days, read from the rollups in
// the kanshi_5m retention policy. Year-long panels read the hourly tier
// (<measurement>_1h), the daily CPU and memory panels the daily tier (_1d).

import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import { build, frame, tagVariable } from './frame.js'
import { addPanels, interfaceCapacity } from './network.js'
import { bars, lines, memWarnCrit, pctWarnCrit, tablePanel } from './panels.js'

const ROLL = '"kanshi_5m"'
const RH = `"host" =~ /^$host$/`

export function capacity (): dashboard.Dashboard {
  return build(addPanels(frame('kanshi-capacity', 'kanshi capacity review / キャパシティ', { refresh: '', time: 'now-90d', tags: ['capacity'] })
    .withVariable(tagVariable('host', 'Host / ホスト', `SHOW TAG VALUES FROM ${ROLL}."cpu_1h" WITH KEY = "host"`))
    .withPanel(lines('CPU daily mean and max (rollups) / CPU 日次', 'percent', [`SELECT mean("usage_percent_mean") AS "mean", max("usage_percent_max") AS "max" FROM ${ROLL}."cpu_1d" WHERE ${RH} AND $timeFilter GROUP BY time(1d), "host" fill(null)`])
      .min(0).max(100).thresholds(pctWarnCrit()).span(12).height(9))
    .withPanel(lines('Memory daily mean and max (rollups) / メモリ 日次', 'percent', [`SELECT mean("used_percent_mean") AS "mean", max("used_percent_max") AS "max" FROM ${ROLL}."mem_1d" WHERE ${RH} AND $timeFilter GROUP BY time(1d), "host" fill(null)`])
      .min(0).max(100).thresholds(memWarnCrit()).span(12).height(9))
    .withPanel(tablePanel('CPU and memory p95 / max per host', [
      `SELECT percentile("usage_percent_mean", 95) AS "cpu_p95", max("usage_percent_max") AS "cpu_max" FROM ${ROLL}."cpu_1h" WHERE ${RH} AND $timeFilter GROUP BY "host"`,
      `SELECT percentile("used_percent_mean", 95) AS "mem_p95", max("used_percent_max") AS "mem_max" FROM ${ROLL}."mem_1h" WHERE ${RH} AND $timeFilter GROUP BY "host"`
    ]).unit('percent').decimals(1).span(12).height(9))
    .withPanel(lines('Disk used per mount (rollups) / ディスク推移', 'percent', [`SELECT max("used_percent_max") FROM ${ROLL}."disk_1h" WHERE ${RH} AND $timeFilter GROUP BY time(1d), "host", "mount" fill(null)`])
      .min(0).max(100).thresholds(pctWarnCrit()).span(12).height(9))
    .withPanel(tablePanel('Disk growth per day and room left / ディスク増加量', [
      `SELECT derivative(mean("used_bytes_mean"), 1d) AS "growth_per_day" FROM ${ROLL}."disk_1h" WHERE ${RH} AND $timeFilter GROUP BY time(1d), "host", "mount"`,
      `SELECT last("free_bytes_mean") AS "free" FROM ${ROLL}."disk_1h" WHERE ${RH} AND $timeFilter GROUP BY "host", "mount"`
    ]).unit('bytes').span(12).height(9))
    .withPanel(bars('Traffic per day / 日次通信量', 'bytes', [`SELECT sum("rx_bytes_per_sec_mean") * 3600 AS "rx", sum("tx_bytes_per_sec_mean") * 3600 AS "tx" FROM ${ROLL}."net_1h" WHERE ${RH} AND $timeFilter GROUP BY time(1d), "host" fill(0)`], 60).span(12).height(9)), interfaceCapacity(ROLL)))
}
