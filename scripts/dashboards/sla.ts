// kanshi-sla: alerts and availability over 30 days. Incidents per day by
// severity, time to resolve per rule, host and service availability, history.

import * as common from '@grafana/grafana-foundation-sdk/common'
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import { alertAnnotation, build, frame } from './frame.js'
import { availability, bars, percentBars, tablePanel } from './panels.js'

export function sla (): dashboard.Dashboard {
  return build(frame('kanshi-sla', 'kanshi alerts and SLA / アラートとSLA', { refresh: '1m', time: 'now-30d', tags: ['sla'] })
    .annotation(alertAnnotation(`"severity" = 'critical'`))
    .withPanel(bars('Incidents per day / 日次インシデント', 'none', [`SELECT count("value") FROM "alert" WHERE "state" = 'firing' AND $timeFilter GROUP BY time(1d), "severity" fill(0)`], 70)
      .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)).span(12).height(8))
    .withPanel(tablePanel('Time to resolve / 復旧時間', [`SELECT count("duration_s") AS "incidents", mean("duration_s") AS "mean_s", max("duration_s") AS "max_s" FROM "alert" WHERE "state" = 'resolved' AND $timeFilter GROUP BY "rule"`]).unit('s').span(12).height(8))
    .withPanel(percentBars('Host availability / ホスト稼働率', 'percent', `SELECT mean("up") * 100 FROM "host_up" WHERE $timeFilter GROUP BY "host"`, availability()).span(12).height(9))
    .withPanel(percentBars('Service availability / サービス稼働率', 'percent', `SELECT mean("up") * 100 FROM "service" WHERE $timeFilter GROUP BY "host", "service"`, availability()).span(12).height(9))
    .withPanel(tablePanel('Alert history / アラート履歴', [`SELECT "summary", "value", "threshold", "duration_s" FROM "alert" WHERE $timeFilter ORDER BY time DESC LIMIT 200`]).span(24).height(8)))
}
