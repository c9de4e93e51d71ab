// kanshi-noc: the NOC wall screen. Every host and kiosk as an UP/DOWN tile,
// firing alerts, agents spooling, top CPU/memory/disk, hosts up per site.

import * as common from '@grafana/grafana-foundation-sdk/common'
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import { build, frame } from './frame.js'
import { addPanels, devicePanels } from './network.js'
import { memWarnCrit, pctWarnCrit, percentBars, tablePanel, thresholds, tiles, upDown, upThresholds } from './panels.js'

export function noc (): dashboard.Dashboard {
  return build(addPanels(frame('kanshi-noc', 'kanshi NOC overview / 監視 全体', { refresh: '10s', time: 'now-1h', tags: ['noc'] })
    .withPanel(tiles('Hosts and kiosks / ホスト稼働状況', 'none', `SELECT last("up") FROM "host_up" WHERE $timeFilter GROUP BY "host"`)
      .mappings(upDown()).thresholds(upThresholds()).textMode(common.BigValueTextMode.Name)
      .text(new common.VizTextDisplayOptionsBuilder().titleSize(16).valueSize(24)).span(24).height(8))
    .withPanel(tablePanel('Firing alerts / 発生中のアラート', [`SELECT last("active") AS "active", last("value") AS "value", last("summary") AS "summary" FROM "alert" WHERE $timeFilter GROUP BY "host", "rule", "severity"`])
      .withTransformation({ id: 'filterByValue', options: { type: 'include', match: 'any', filters: [{ fieldName: 'active', config: { id: 'equal', options: { value: 1 } } }] } })
      .span(12).height(8))
    .withPanel(percentBars('Agents spooling / 未送信データ (batches)', 'none', `SELECT last("spool_batches") FROM "agent" WHERE $timeFilter GROUP BY "host"`,
      thresholds([[null, 'green'], [5, 'orange'], [30, 'red']])).span(12).height(8))
    .withPanel(percentBars('Top CPU / CPU使用率', 'percent', `SELECT last("usage_percent") FROM "cpu" WHERE $timeFilter GROUP BY "host"`, pctWarnCrit()).span(8).height(9))
    .withPanel(percentBars('Top memory / メモリ使用率', 'percent', `SELECT last("used_percent") FROM "mem" WHERE $timeFilter GROUP BY "host"`, memWarnCrit()).span(8).height(9))
    .withPanel(percentBars('Top disk / ディスク使用率', 'percent', `SELECT last("used_percent") FROM "disk" WHERE $timeFilter GROUP BY "host", "mount"`, pctWarnCrit()).span(8).height(9))
    .withPanel(tiles('Up per site / 拠点別 稼働数', 'none', `SELECT sum("last") FROM (SELECT last("up") FROM "host_up" WHERE $timeFilter GROUP BY "host", "site") GROUP BY "site"`)
      .thresholds(thresholds([[null, 'blue']])).colorMode(common.BigValueColorMode.Value).span(24).height(6)), devicePanels()))
}
