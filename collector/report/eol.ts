// End of support of the operating systems kanshi's hosts run, from the vendors'
// lifecycle pages, matched against the agent's inventory (os_id, os_name,
// os_version, os_build). A small table: add a row when a vendor publishes a date.

export interface OsIdentity { os_id: string, os_name: string, os_version: string, os_build: string }

export interface EolEntry {
  /** the product as the report names it */
  product: string
  /** last day of (extended) security support, YYYY-MM-DD */
  eol: string
  match: (o: OsIdentity) => boolean
}

const build = (o: OsIdentity): number => Number(/^(\d+)/.exec(o.os_build)?.[1] ?? /\d+\.\d+\.(\d+)/.exec(o.os_version)?.[1] ?? NaN)
const isServer = (o: OsIdentity): boolean => o.os_id === 'windows' && /Server/i.test(o.os_name)
const isClient = (o: OsIdentity): boolean => o.os_id === 'windows' && !/Server/i.test(o.os_name)
const enterprise = (o: OsIdentity): boolean => /Enterprise|Education|エンタープライズ|Education/i.test(o.os_name)
const ltsc = (o: OsIdentity): boolean => /LTSC|LTSB/i.test(o.os_name)
const iot = (o: OsIdentity): boolean => /IoT/i.test(o.os_name)
const major = (o: OsIdentity): string => o.os_version.split('.')[0] ?? ''
const linux = (ids: string[], v: string) => (o: OsIdentity): boolean => ids.includes(o.os_id) && major(o) === v
const ubuntu = (v: string) => (o: OsIdentity): boolean => o.os_id === 'ubuntu' && o.os_version === v

/**
 * EOL_TABLE. Sources:
 * Windows: learn.microsoft.com/lifecycle/products (Windows Server 2012/2012 R2, 2016, 2019, 2022 extended
 *   end dates; Windows 10 and 11 release information, Home/Pro versus Enterprise/Education dates; LTSC editions).
 * RHEL: access.redhat.com/support/policy/updates/errata (end of Maintenance Support; ELS not counted).
 * Rocky Linux / AlmaLinux: their release pages (follow RHEL). CentOS 7: 2024-06-30 (centos.org).
 * Debian: wiki.debian.org/LTS (end of LTS). Ubuntu: ubuntu.com/about/release-cycle (end of standard
 *   support; Canonical publishes a month, the last day of it is used; ESM not counted).
 */
export const EOL_TABLE: readonly EolEntry[] = [
  { product: 'Windows Server 2012', eol: '2023-10-10', match: o => isServer(o) && build(o) === 9200 },
  { product: 'Windows Server 2012 R2', eol: '2023-10-10', match: o => isServer(o) && build(o) === 9600 },
  { product: 'Windows Server 2016', eol: '2027-01-12', match: o => isServer(o) && build(o) === 14393 },
  { product: 'Windows Server 2019', eol: '2029-01-09', match: o => isServer(o) && build(o) === 17763 },
  { product: 'Windows Server 2022', eol: '2031-10-14', match: o => isServer(o) && build(o) === 20348 },
  { product: 'Windows 10 Enterprise LTSC 2019', eol: '2029-01-09', match: o => isClient(o) && ltsc(o) && build(o) === 17763 },
  { product: 'Windows 10 IoT Enterprise LTSC 2021', eol: '2032-01-13', match: o => isClient(o) && ltsc(o) && iot(o) && build(o) === 19044 },
  { product: 'Windows 10 Enterprise LTSC 2021', eol: '2027-01-12', match: o => isClient(o) && ltsc(o) && build(o) === 19044 },
  { product: 'Windows 10 21H2 (Enterprise, Education)', eol: '2024-06-11', match: o => isClient(o) && !ltsc(o) && enterprise(o) && build(o) === 19044 },
  { product: 'Windows 10 21H2', eol: '2023-06-13', match: o => isClient(o) && !ltsc(o) && build(o) === 19044 },
  { product: 'Windows 10 22H2', eol: '2025-10-14', match: o => isClient(o) && !ltsc(o) && build(o) === 19045 },
  { product: 'Windows 11 22H2 (Enterprise, Education)', eol: '2025-10-14', match: o => isClient(o) && enterprise(o) && build(o) === 22621 },
  { product: 'Windows 11 22H2', eol: '2024-10-08', match: o => isClient(o) && build(o) === 22621 },
  { product: 'Windows 11 23H2 (Enterprise, Education)', eol: '2026-11-10', match: o => isClient(o) && enterprise(o) && build(o) === 22631 },
  { product: 'Windows 11 23H2', eol: '2025-11-11', match: o => isClient(o) && build(o) === 22631 },
  { product: 'Windows 11 24H2 (Enterprise, Education)', eol: '2027-10-12', match: o => isClient(o) && !ltsc(o) && enterprise(o) && build(o) === 26100 },
  { product: 'Windows 11 24H2', eol: '2026-10-13', match: o => isClient(o) && !ltsc(o) && build(o) === 26100 },
  { product: 'CentOS Linux 7', eol: '2024-06-30', match: linux(['centos'], '7') },
  { product: 'Red Hat Enterprise Linux 7', eol: '2024-06-30', match: linux(['rhel'], '7') },
  { product: 'Red Hat Enterprise Linux 8', eol: '2029-05-31', match: linux(['rhel', 'rocky', 'almalinux'], '8') },
  { product: 'Red Hat Enterprise Linux 9', eol: '2032-05-31', match: linux(['rhel', 'rocky', 'almalinux'], '9') },
  { product: 'Debian 10 (buster)', eol: '2024-06-30', match: linux(['debian'], '10') },
  { product: 'Debian 11 (bullseye)', eol: '2026-08-31', match: linux(['debian'], '11') },
  { product: 'Debian 12 (bookworm)', eol: '2028-06-30', match: linux(['debian'], '12') },
  { product: 'Ubuntu 18.04 LTS', eol: '2023-05-31', match: ubuntu('18.04') },
  { product: 'Ubuntu 20.04 LTS', eol: '2025-05-31', match: ubuntu('20.04') },
  { product: 'Ubuntu 22.04 LTS', eol: '2027-04-30', match: ubuntu('22.04') },
  { product: 'Ubuntu 24.04 LTS', eol: '2029-04-30', match: ubuntu('24.04') }
]

/** eolOf finds the first entry of the table matching an OS, or undefined when the table does not know it. */
export function eolOf (o: OsIdentity, table: readonly EolEntry[] = EOL_TABLE): EolEntry | undefined {
  return table.find(e => e.match(o))
}

/** pastEol says whether support has ended by `now` (the day after the last supported day, in UTC+9 it is still that day: compare dates). */
export function pastEol (e: EolEntry, todayLocal: string): boolean {
  return todayLocal > e.eol
}
