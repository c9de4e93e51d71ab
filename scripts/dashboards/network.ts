// The devices and network panels: devices polled by agents (ping: up, RTT, loss), SNMP
// interface traffic and errors (snmp_if), UPS charge; the NOC board and the capacity review use them.

import * as common from '@grafana/grafana-foundation-sdk/common'
import type * as cog from '@grafana/grafana-foundation-sdk/cog'
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import { bars, lines, tablePanel, thresholds, tiles } from './panels.js'

/** addPanels adds panels to a dashboard builder in order and returns it. */
export function addPanels (d: dashboard.DashboardBuilder, panels: ReadonlyArray<cog.Builder<dashboard.Panel>>): dashboard.DashboardBuilder {
  for (const p of panels) d.withPanel(p)
  return d
}

const PING = `"check" = 'ping' AND "poller" =~ /.+/`
/** every device's liveness checks: ping, and SNMP reachability (the only one of an SNMP-only device) */
const LIVENESS = `"check" =~ /^(ping|snmp)$/ AND "poller" =~ /.+/`

/** devicePanels: the NOC's devices table (a row per device and check: SNMP-only devices too), RTT and loss over time, UPS charge. */
export function devicePanels (): Array<cog.Builder<dashboard.Panel>> {
  return [
    tablePanel('Devices / ネットワーク機器 (ping, SNMP)', [
      `SELECT last("up") AS "up", last("rtt_ms") AS "rtt_ms", last("loss_percent") AS "loss_percent", last("uptime_s") AS "uptime_s" FROM "service" WHERE ${LIVENESS} AND $timeFilter GROUP BY "host", "site", "poller", "check"`
    ]).span(12).height(9),
    lines('Device RTT / 応答時間 (ping)', 'ms', [`SELECT mean("rtt_ms") FROM "service" WHERE ${PING} AND $timeFilter GROUP BY time($__interval), "host" fill(null)`]).min(0).span(6).height(9),
    lines('Device packet loss / パケット損失率', 'percent', [`SELECT max("loss_percent") FROM "service" WHERE ${PING} AND $timeFilter GROUP BY time($__interval), "host" fill(null)`])
      .min(0).max(100).thresholds(thresholds([[null, 'green'], [1, 'orange'], [50, 'red']])).span(6).height(9),
    lines('Interface traffic / インタフェース通信量 (SNMP)', 'Bps', [
      `SELECT mean("rx_bytes_per_sec") AS "rx", mean("tx_bytes_per_sec") AS "tx" FROM "snmp_if" WHERE $timeFilter GROUP BY time($__interval), "host", "ifname" fill(null)`
    ]).min(0).span(12).height(9),
    lines('Interface errors / インタフェースエラー (per second)', 'short', [
      `SELECT mean("rx_errors_per_sec") AS "rx_errors", mean("tx_errors_per_sec") AS "tx_errors" FROM "snmp_if" WHERE $timeFilter GROUP BY time($__interval), "host", "ifname" fill(null)`
    ]).min(0).span(6).height(9),
    tiles('UPS charge / UPS 残量', 'percent', `SELECT last("charge_percent") FROM "ups" WHERE $timeFilter GROUP BY "host"`)
      .thresholds(thresholds([[null, 'red'], [25, 'orange'], [50, 'green']])).textMode(common.BigValueTextMode.ValueAndName).span(6).height(9)
  ]
}

/** interfaceCapacity: the capacity review's interface traffic per day and peaks, from the hourly rollups. */
export function interfaceCapacity (roll: string): Array<cog.Builder<dashboard.Panel>> {
  return [
    bars('Interface traffic per day / インタフェース日次通信量', 'bytes', [
      `SELECT sum("rx_bytes_per_sec_mean") * 3600 AS "rx", sum("tx_bytes_per_sec_mean") * 3600 AS "tx" FROM ${roll}."snmp_if_1h" WHERE $timeFilter GROUP BY time(1d), "host", "ifname" fill(0)`
    ], 60).span(12).height(9),
    tablePanel('Interface peaks / インタフェース最大通信量', [
      `SELECT max("rx_bytes_per_sec_max") AS "rx_peak", max("tx_bytes_per_sec_max") AS "tx_peak", percentile("rx_bytes_per_sec_mean", 95) AS "rx_p95", percentile("tx_bytes_per_sec_mean", 95) AS "tx_p95" FROM ${roll}."snmp_if_1h" WHERE $timeFilter GROUP BY "host", "ifname"`
    ]).unit('Bps').span(12).height(9)
  ]
}
