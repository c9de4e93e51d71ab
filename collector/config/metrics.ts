// metrics: who may read /metrics. By default a viewer API token, like /api/v1/agents;
// `auth: none` lets a local Prometheus scrape without one, best with `allow` set.

import { BlockList, isIP } from 'node:net'
import { Type, type StaticDecode } from '@sinclair/typebox'
import { OneOf, Strict } from '../../common/config.js'

const ALLOW_ENTRY = 'an IP address or a CIDR block such as 127.0.0.1, 10.0.0.0/8 or ::1'

/** AllowEntry is one source of metrics.allow: an address, or a network with its prefix length. */
const AllowEntry = Type.Transform(Type.String({ description: ALLOW_ENTRY }))
  .Decode(v => {
    if (parseSource(v) === undefined) throw new Error(`expected ${ALLOW_ENTRY}, got ${JSON.stringify(v)}`)
    return v
  })
  .Encode(v => v)

export const MetricsSchema = Type.Object({
  auth: OneOf(['viewer', 'none'] as const, { default: 'viewer' }),
  allow: Type.Array(AllowEntry, { default: [], description: 'a list of IP addresses or CIDR blocks' })
}, { ...Strict, default: {} })

export type MetricsConfig = StaticDecode<typeof MetricsSchema>

interface Source { address: string, prefix: number, family: 'ipv4' | 'ipv6' }

function parseSource (s: string): Source | undefined {
  const [address = '', prefix, extra] = s.trim().split('/')
  if (extra !== undefined) return undefined
  const v = isIP(address)
  if (v === 0) return undefined
  const max = v === 4 ? 32 : 128
  const p = prefix === undefined ? max : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN
  if (!(p >= 0 && p <= max)) return undefined
  return { address, prefix: p, family: v === 4 ? 'ipv4' : 'ipv6' }
}

/**
 * sourceAllowed builds the check of a peer address against metrics.allow (already
 * validated); an empty list allows every address. `::ffff:a.b.c.d` counts as a.b.c.d.
 */
export function sourceAllowed (allow: readonly string[]): (address: string | undefined) => boolean {
  if (allow.length === 0) return () => true
  const list = new BlockList()
  for (const s of allow.map(parseSource)) {
    if (s !== undefined) list.addSubnet(s.address, s.prefix, s.family)
  }
  return address => {
    if (address === undefined) return false
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
    const a = mapped?.[1] ?? address
    const v = isIP(a)
    return v !== 0 && list.check(a, v === 4 ? 'ipv4' : 'ipv6')
  }
}
