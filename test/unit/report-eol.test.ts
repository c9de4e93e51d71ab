// The end-of-support table: which product an inventory is, and whether its
// support has ended as of an injected "now" (the day after the vendor's last
// day, in the report's time zone), for Windows editions and Linux releases.

import t from 'tap'
import { EOL_TABLE, eolOf } from '../../collector/report/eol.js'
import { judgeInventory, type InventoryRow } from '../../collector/report/sections/inventory.js'

const win = (name: string, build: string) => ({ os_id: 'windows', os_name: name, os_version: `10.0.${build.split('.')[0]}`, os_build: build })
const lin = (id: string, version: string) => ({ os_id: id, os_name: id, os_version: version, os_build: version })

t.test('products by edition and build', async t => {
  t.equal(eolOf(win('Microsoft Windows Server 2012 R2 Standard', '9600.21620'))?.eol, '2023-10-10')
  t.equal(eolOf(win('Microsoft Windows Server 2016 Datacenter', '14393.7428'))?.eol, '2027-01-12')
  t.equal(eolOf(win('Microsoft Windows Server 2019 Standard', '17763.6414'))?.eol, '2029-01-09')
  t.equal(eolOf(win('Microsoft Windows Server 2022 Standard', '20348.2762'))?.eol, '2031-10-14')
  t.equal(eolOf(win('Microsoft Windows 10 Pro', '19045.5011'))?.eol, '2025-10-14')
  t.equal(eolOf(win('Microsoft Windows 10 Enterprise LTSC 2019', '17763.6414'))?.product, 'Windows 10 Enterprise LTSC 2019', 'LTSC is not Server 2019 and not 1809')
  t.equal(eolOf(win('Microsoft Windows 10 IoT Enterprise LTSC 2021', '19044.5011'))?.eol, '2032-01-13', 'kiosks on IoT LTSC keep support to 2032')
  t.equal(eolOf(win('Microsoft Windows 10 Enterprise', '19044.3086'))?.eol, '2024-06-11')
  t.equal(eolOf(win('Microsoft Windows 11 Pro', '22631.4317'))?.eol, '2025-11-11')
  t.equal(eolOf(win('Microsoft Windows 11 Enterprise', '22631.4317'))?.eol, '2026-11-10')
  t.equal(eolOf(lin('rhel', '8.10'))?.eol, '2029-05-31')
  t.equal(eolOf(lin('rocky', '9.4'))?.eol, '2032-05-31')
  t.equal(eolOf(lin('debian', '11'))?.eol, '2026-08-31')
  t.equal(eolOf(lin('ubuntu', '20.04'))?.eol, '2025-05-31')
  t.equal(eolOf(lin('ubuntu', '20.10')), undefined, 'not in the table: no date, no flag')
  t.equal(eolOf(lin('debian', '13')), undefined)
  for (const e of EOL_TABLE) t.match(e.eol, /^\d{4}-\d{2}-\d{2}$/, e.product)
})

t.test('past end of support with an injected now, in Japanese time', async t => {
  const row = (host: string, o: ReturnType<typeof win>, lastUpdate: number | null): InventoryRow => {
    const e = eolOf(o)
    return { host, seenAt: 0, osId: o.os_id, osName: o.os_name, osVersion: o.os_version, osBuild: o.os_build, kernel: null, lastUpdate, pendingReboot: false, agentVersion: '0.1.0', eol: e?.eol ?? null, eolProduct: e?.product ?? null }
  }
  const r = row('old01', win('Microsoft Windows Server 2012 R2 Standard', '9600.21620'), Date.UTC(2023, 9, 1))
  const at = (iso: string) => judgeInventory([r], Date.parse(iso), 'Asia/Tokyo', { maxUpdateAgeDays: 45, eolWarnDays: 180 })[0]!
  t.match(at('2023-10-10T14:59:00Z'), { pastEol: false, eolSoon: true, staleUpdate: false }, '23:59 JST on the last day: still supported')
  t.match(at('2023-10-10T15:00:00Z'), { pastEol: true, eolSoon: false }, '00:00 JST the next day: past')
  t.match(at('2023-04-12T00:00:00Z'), { pastEol: false, eolSoon: false }, 'more than 180 days before: not flagged')
  t.equal(at('2023-11-16T00:00:00Z').updateAgeDays, (Date.parse('2023-11-16T00:00:00Z') - Date.UTC(2023, 9, 1)) / 86_400_000)
  t.match(at('2023-11-16T00:00:00Z'), { staleUpdate: true }, '46 days without an update')
  t.match(judgeInventory([{ ...r, lastUpdate: null }], Date.parse('2023-01-01T00:00:00Z'), 'Asia/Tokyo', { maxUpdateAgeDays: 45, eolWarnDays: 0 })[0]!, { staleUpdate: true, updateAgeDays: null, eolSoon: false }, 'no update known is stale')
})
