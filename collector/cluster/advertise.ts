// The address a collector writes in `nodes` for its peers to call (GET /api/v1/cluster/peer):
// cluster.advertise when set, else its listen address as a URL; a wildcard listen host
// (0.0.0.0, ::) is replaced by this host's name, since no peer can call a wildcard.

import { hostname } from 'node:os'

/** advertiseUrl: the base URL peers use, from the config and the address the server is bound to. */
export function advertiseUrl (advertise: string | undefined, tls: boolean, bound: { address: string, port: number } | undefined, listen: { host: string, port: number }): string {
  if (advertise !== undefined) return advertise.replace(/\/$/, '')
  const host = bound?.address ?? listen.host
  const port = bound?.port ?? listen.port
  const wildcard = ['0.0.0.0', '::', '', '[::]'].includes(host)
  const name = wildcard ? hostname() : host
  return `${tls ? 'https' : 'http'}://${name.includes(':') && !name.startsWith('[') ? `[${name}]` : name}:${port}`
}
