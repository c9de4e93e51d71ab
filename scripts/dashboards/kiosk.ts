// kanshi-kiosk: the ticket kiosks of a site ($site). Online tiles, printer
// state and problems, availability by site, app metrics pushed as kiosk_app.

import * as common from '@grafana/grafana-foundation-sdk/common'
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import { build, frame, tagVariable } from './frame.js'
import { lines, tablePanel, tiles, upDown, upThresholds, upTimeline } from './panels.js'

const KIOSK = `"role" = 'kiosk' AND "site" =~ /^$site$/`

export function kiosk (): dashboard.Dashboard {
  return build(frame('kanshi-kiosk', 'kanshi kiosk fleet / 発券機', { tags: ['kiosk'] })
    .withVariable(tagVariable('site', 'Site / 拠点', `SHOW TAG VALUES FROM "host_up" WITH KEY = "site" WHERE "role" = 'kiosk'`))
    .withPanel(tiles('Kiosks / 発券機 稼働状況', 'none', `SELECT last("up") FROM "host_up" WHERE ${KIOSK} AND $timeFilter GROUP BY "host"`)
      .mappings(upDown()).thresholds(upThresholds()).textMode(common.BigValueTextMode.Name).span(24).height(7))
    .withPanel(upTimeline('Printers / プリンタ状態', `SELECT last("up") FROM "service" WHERE ${KIOSK} AND "check" = 'printer' AND $timeFilter GROUP BY time($__interval), "host" fill(previous)`, upDown('READY', 'ERROR')).span(12).height(8))
    .withPanel(tablePanel('Printer problems / 用紙切れ・エラー', [`SELECT last("message") AS "message", last("up") AS "up" FROM "service" WHERE ${KIOSK} AND "check" = 'printer' AND $timeFilter GROUP BY "host"`]).span(12).height(8))
    .withPanel(lines('Kiosks online in opening hours / 開庁時間中の稼働率', 'percent', [`SELECT mean("up") * 100 FROM "host_up" WHERE ${KIOSK} AND $timeFilter GROUP BY time(1h), "site" fill(null)`]).min(0).max(100).span(12).height(8))
    .withPanel(lines('App metrics (kiosk_app) / 発券数・待ち人数', 'short', [`SELECT mean(*) FROM "kiosk_app" WHERE "site" =~ /^$site$/ AND $timeFilter GROUP BY time($__interval), "host" fill(null)`]).span(12).height(8)))
}
