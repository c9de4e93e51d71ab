// One SNMP conversation with a device: a net-snmp session (v2c or v3) opened
// for a poll and closed after it or at the check's abort; GETs and column
// walks as promises; replies decoded to numbers, bigints and strings; errors
// turned into messages that say what to check, never a secret.

import type { Session, Varbind } from 'net-snmp'

/** SnmpTarget is how to reach one device (built by ./config.ts). */
export interface SnmpTarget {
  host: string
  port: number
  version: '2c' | '3'
  community?: string
  user?: { name: string, level: 'noAuthNoPriv' | 'authNoPriv' | 'authPriv', authProtocol?: string, authKey?: string, privProtocol?: string, privKey?: string }
  /** wait for each request's answer, ms */
  requestTimeoutMs: number
  retries: number
}

/** A decoded value: Counter64 as bigint (beyond 2^53), other integers as numbers, strings as text. */
export type SnmpValue = { kind: 'int' | 'counter32' | 'gauge' | 'ticks', n: number } | { kind: 'counter64', n: bigint } | { kind: 'string', s: string }

type Snmp = typeof import('net-snmp').default
let lib: Snmp | undefined
/** loadSnmp loads net-snmp on first use: agents without SNMP checks never pay for it. */
export async function loadSnmp (): Promise<Snmp> {
  lib ??= (await import('net-snmp')).default
  return lib
}

/** decode turns a varbind into a value, or undefined for noSuchObject/noSuchInstance/endOfMibView. */
export function decode (snmp: Snmp, v: Varbind): SnmpValue | undefined {
  if (snmp.isVarbindError(v)) return undefined
  const T = snmp.ObjectType
  const val = v.value
  switch (v.type) {
    case T['Counter64']: return { kind: 'counter64', n: Buffer.isBuffer(val) ? bufferToBigInt(val) : BigInt(Number(val)) }
    case T['Counter32']: return { kind: 'counter32', n: Number(val) }
    case T['Gauge32']: return { kind: 'gauge', n: Number(val) }
    case T['TimeTicks']: return { kind: 'ticks', n: Number(val) }
    case T['Integer']: return { kind: 'int', n: Number(val) }
    case T['Boolean']: return { kind: 'int', n: val === true ? 1 : 0 }
    default: return { kind: 'string', s: Buffer.isBuffer(val) ? text(val) : String(val) }
  }
}

function bufferToBigInt (b: Buffer): bigint {
  let n = 0n
  for (const byte of b) n = (n << 8n) | BigInt(byte)
  return n
}

/** text is an OCTET STRING as text when it is printable UTF-8, else as hex (MAC addresses, binary). */
function text (b: Buffer): string {
  const s = b.toString('utf8')
  // eslint-disable-next-line no-control-regex
  return !s.includes('\uFFFD') && !/[\x00-\x08\x0e-\x1f]/.test(s) ? s.replace(/\0+$/, '') : b.toString('hex').replace(/(..)(?!$)/g, '$1:')
}

/** SnmpConversation is an open session to one device for one poll. */
export class SnmpConversation {
  private constructor (private readonly snmp: Snmp, private readonly session: Session, private readonly target: SnmpTarget) {}

  static async open (target: SnmpTarget, signal: AbortSignal): Promise<SnmpConversation> {
    const snmp = await loadSnmp()
    const options = { port: target.port, retries: target.retries, timeout: target.requestTimeoutMs, transport: target.host.includes(':') ? 'udp6' as const : 'udp4' as const }
    let session: Session
    if (target.version === '2c') {
      session = snmp.createSession(target.host, target.community ?? '', { ...options, version: snmp.Version2c })
    } else {
      const u = target.user!
      session = snmp.createV3Session(target.host, {
        name: u.name,
        level: snmp.SecurityLevel[u.level],
        ...(u.authProtocol !== undefined ? { authProtocol: snmp.AuthProtocols[u.authProtocol]!, authKey: u.authKey! } : {}),
        ...(u.privProtocol !== undefined ? { privProtocol: snmp.PrivProtocols[u.privProtocol]!, privKey: u.privKey! } : {})
      }, { ...options, version: snmp.Version3 })
    }
    session.on('error', () => {}) // a socket error fails the pending request, which says why
    const c = new SnmpConversation(snmp, session, target)
    signal.addEventListener('abort', () => c.close(), { once: true })
    return c
  }

  close (): void {
    try { this.session.close() } catch { /* already closed */ }
  }

  /** get reads scalars; a missing one is undefined in its place. */
  get (oids: string[]): Promise<Array<SnmpValue | undefined>> {
    return new Promise((resolve, reject) => {
      this.session.get(oids, (err, vbs) => {
        if (err !== null) return reject(this.explain(err))
        resolve(oids.map((_o, i) => vbs?.[i] === undefined ? undefined : decode(this.snmp, vbs[i]!)))
      })
    })
  }

  /** walk reads a column (or any subtree): index (the OID after the column) → value. */
  walk (column: string): Promise<Map<string, SnmpValue>> {
    return new Promise((resolve, reject) => {
      const out = new Map<string, SnmpValue>()
      const prefix = column + '.'
      this.session.subtree(column, 25, vbs => {
        for (const v of vbs) {
          const d = decode(this.snmp, v)
          if (d !== undefined && v.oid.startsWith(prefix)) out.set(v.oid.slice(prefix.length), d)
        }
        return undefined
      }, err => err !== null ? reject(this.explain(err)) : resolve(out))
    })
  }

  /** explain says what a failure means for the operator, naming the device and what to check. */
  private explain (err: Error): Error {
    const t = this.target
    const who = `${t.host}:${t.port} (SNMP v${t.version}${t.user !== undefined ? ` user ${t.user.name}` : ''})`
    const s = this.snmp
    let why: string
    if (err instanceof s.RequestTimedOutError) {
      why = `no answer within ${t.requestTimeoutMs} ms × ${t.retries + 1} tries: device down or unreachable, or ${t.version === '2c' ? 'wrong community (a v2c agent does not answer a wrong one)' : 'wrong privKey or privProtocol (the device drops what it cannot decrypt)'}`
    } else if (err instanceof s.ResponseInvalidError) {
      const code = s.ResponseInvalidCode[err.code] ?? String(err.code)
      why = code === 'EAuthFailure' ? 'authentication failed: user unknown to the device, or wrong authKey or authProtocol'
        : code === 'ECouldNotDecrypt' ? 'could not decrypt the answer: wrong privKey or privProtocol'
          : `invalid answer (${code}): ${err.message}`
    } else if (err instanceof s.RequestFailedError) {
      why = `request failed: ${err.message}`
    } else {
      why = err.message
    }
    return new Error(`${who}: ${redact(why, t)}`)
  }
}

/** redact removes the target's secrets from a text (library messages may quote what they received). */
export function redact (text: string, t: Pick<SnmpTarget, 'community' | 'user'>): string {
  let out = text
  for (const s of [t.community, t.user?.authKey, t.user?.privKey]) if (s !== undefined && s.length >= 3) out = out.split(s).join('[redacted]')
  return out
}
