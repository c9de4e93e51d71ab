// SNMP trap receiver (v1, v2c, v3 and informs, with net-snmp's Receiver) as a
// log stream source: each trap becomes an event with source snmptrap:<device>
// (a sender named in devices: carries that device's identity tags), passed through the log input's gate (redaction, level floor, rate limit)
// and spooled like any log line. UDP cannot be paused: when the queue is
// full the trap is dropped, counted and reported in one event.

import type { Notification, Receiver, Varbind } from 'net-snmp'
import type { GateSpec } from '../logs/config.js'
import type { Batch } from '../logs/gate.js'
import type { Level } from '../logs/logline.js'
import { QueuedSource, type QueuedRecord } from '../logs/stream.js'
import { loadSnmp, decode } from './session.js'
import { formatTrap, SNMP_TRAP_OID, v1TrapOid, type TrapVarbind } from './trap-format.js'

/** TrapUser is a v3 user traps may come from (keys already read from the file or the environment). */
export interface TrapUser { name: string, level: 'noAuthNoPriv' | 'authNoPriv' | 'authPriv', authProtocol?: string, authKey?: string, privProtocol?: string, privKey?: string }

export interface TrapSpec extends GateSpec {
  host: string
  port: number
  communities: string[]
  users: TrapUser[]
  /** sender address → device name */
  devices: Record<string, string>
  /** device name → the tags of its ping/snmp checks on this agent (device, host, role, site, parent) */
  deviceTags?: Record<string, Readonly<Record<string, string>>>
  /** trap name or OID → level */
  trapLevels: Record<string, Level>
  /** traps waiting for the next log poll before more are dropped (default 10 000) */
  maxQueue?: number
}

const MAX_QUEUE = 10_000

/** TrapSource listens for traps and queues them as records for the log input's polls. */
export class TrapSource extends QueuedSource<QueuedRecord, undefined> {
  private receiver: Receiver | undefined
  private listening: Promise<void> | undefined
  private overflow = 0
  /** traps received, refused (unknown community/user, bad authentication, undecodable), dropped (queue full) */
  readonly counts = { received: 0, refused: 0, dropped: 0 }
  /** port is the UDP port listened on */
  port = 0

  constructor (readonly spec: TrapSpec, stamp: (source: string, t: number) => number, now: number, private readonly onError: (err: unknown) => void = () => {}, private readonly clock: () => number = Date.now) {
    super(spec, stamp, now)
  }

  protected position (): undefined { return undefined }

  start (): void {
    void this.listen().catch(err => this.onError(new Error(`snmpTraps: cannot listen on ${this.spec.host}:${this.spec.port}: ${(err as Error).message}`)))
  }

  /** listen binds the receiver; resolves once the socket is bound (tests await it). */
  listen (): Promise<void> {
    this.listening ??= this.bind()
    return this.listening
  }

  private async bind (): Promise<void> {
    const snmp = await loadSnmp()
    const s = this.spec
    const receiver = snmp.createReceiver({ port: s.port, address: s.host, transport: s.host.includes(':') ? 'udp6' : 'udp4', disableAuthorization: false }, (err, n) => {
      if (err !== null) { this.refused(err); return }
      if (n !== null) this.received(snmp, n)
    })
    this.receiver = receiver
    const auth = receiver.getAuthorizer()
    for (const c of s.communities) auth.addCommunity(c)
    for (const u of s.users) {
      auth.addUser({
        name: u.name,
        level: snmp.SecurityLevel[u.level],
        ...(u.authProtocol !== undefined ? { authProtocol: snmp.AuthProtocols[u.authProtocol]!, authKey: u.authKey! } : {}),
        ...(u.privProtocol !== undefined ? { privProtocol: snmp.PrivProtocols[u.privProtocol]!, privKey: u.privKey! } : {})
      })
    }
    await bound(receiver)
    this.port = s.port
  }

  private received (snmp: Awaited<ReturnType<typeof loadSnmp>>, n: Notification): void {
    this.counts.received++
    const varbinds: TrapVarbind[] = n.pdu.varbinds.map((v: Varbind) => {
      const d = decode(snmp, v)
      return { oid: v.oid, value: d === undefined ? 'noSuchObject' : d.kind === 'string' ? d.s : d.kind === 'counter64' ? Number(d.n) : d.n }
    })
    const trapOid = n.pdu.type === snmp.PduType['Trap']
      ? v1TrapOid(n.pdu.enterprise ?? '', n.pdu.generic ?? 6, n.pdu.specific ?? 0)
      : String(varbinds.find(v => v.oid === SNMP_TRAP_OID)?.value ?? 'unknown')
    const address = n.rinfo.address.replace(/^::ffff:/, '')
    const named = this.spec.devices[address]
    const device = named ?? address
    const f = formatTrap(trapOid, varbinds, device, this.spec.trapLevels)
    if (this.queue.length >= (this.spec.maxQueue ?? MAX_QUEUE)) { this.overflow++; this.counts.dropped++; this.gate.stats.dropped++; return }
    // A named device's trap is the device's event (its checks' tags; the collector stamps it like its
    // points, under agents[].devices); an unnamed sender's stays the poller's event.
    const tags = named === undefined ? undefined : this.spec.deviceTags?.[named] ?? { device: named, host: named }
    this.queue.push({ t: this.clock(), level: f.level, source: `snmptrap:${device}`, message: f.message, ...(tags !== undefined ? { tags } : {}) })
  }

  /** refused counts a trap the receiver did not accept; the reason never quotes the community it carried. */
  private refused (err: Error & { rinfo?: { address: string }, syscall?: string }): void {
    if (err.syscall !== undefined) { this.onError(new Error(`snmpTraps: cannot listen on ${this.spec.host}:${this.spec.port}: ${err.message}`)); return }
    this.counts.refused++
    this.gate.stats.errors++
    const m = err.message
    const why = /community/i.test(m) ? 'unknown community'
      : /Local user not found/i.test(m) ? `unknown v3 user${/with user (\S+)/.exec(m)?.[1] !== undefined ? ' ' + /with user (\S+)/.exec(m)![1]! : ''}`
        : /auth|digest|decrypt/i.test(m) ? 'v3 authentication or decryption failed'
          : 'undecodable packet'
    this.onError(new Error(`snmpTraps: refused a trap from ${err.rinfo?.address ?? 'an unknown sender'}: ${why}`))
  }

  async poll (batch: Batch, now: number): Promise<boolean> {
    const done = await super.poll(batch, now)
    if (this.overflow > 0 && !batch.full) {
      this.gate.pass(batch, `kanshi: ${this.overflow} SNMP traps dropped: the queue of ${this.spec.maxQueue ?? MAX_QUEUE} was full`, 'snmptrap', now, { level: 'warning' })
      this.overflow = 0
    }
    return done
  }

  async close (): Promise<void> {
    await this.listening?.catch(() => {})
    const r = this.receiver
    this.receiver = undefined
    this.listening = undefined
    // net-snmp calls back once per closed socket; one that never bound calls back never.
    if (r !== undefined) await new Promise<void>(resolve => { const t = setTimeout(resolve, 1000); try { r.close(() => { clearTimeout(t); resolve() }) } catch { clearTimeout(t); resolve() } })
  }
}

/** bound waits for the receiver's socket to be bound (net-snmp binds it in its constructor). */
async function bound (r: Receiver): Promise<void> {
  const sockets = (r as unknown as { listener?: { sockets?: Record<string, { address(): unknown, once(e: string, f: (...a: unknown[]) => void): void }> } }).listener?.sockets
  const sock = sockets !== undefined ? Object.values(sockets)[0] : undefined
  if (sock === undefined) return
  try { sock.address(); return } catch { /* not bound yet */ }
  await new Promise<void>((resolve, reject) => { sock.once('listening', () => resolve()); sock.once('error', e => reject(e as Error)) })
}
