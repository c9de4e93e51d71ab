// The part of net-snmp (which ships no types) that the SNMP checks and the
// trap receiver use.
declare module 'net-snmp' {
  export interface Varbind { oid: string, type: number, value: unknown }
  export interface User { name: string, level: number, authProtocol?: string, authKey?: string, privProtocol?: string, privKey?: string }
  export interface SessionOptions { port?: number, retries?: number, timeout?: number, backoff?: number, transport?: 'udp4' | 'udp6', version?: number, idBitsSize?: 16 | 32 }
  export interface Session {
    get(oids: string[], cb: (err: Error | null, varbinds?: Varbind[]) => void): void
    subtree(oid: string, maxRepetitions: number, feed: (varbinds: Varbind[]) => boolean | undefined, done: (err: Error | null) => void): void
    close(): void
    on(event: 'error', cb: (err: Error) => void): void
  }
  export interface Notification { pdu: { type: number, varbinds: Varbind[], enterprise?: string, generic?: number, specific?: number, upTime?: number, agentAddr?: string }, rinfo: { address: string, port: number, family: string } }
  export interface Authorizer { addCommunity(c: string): void, addUser(u: User): void }
  export interface Receiver { getAuthorizer(): Authorizer, close(cb?: () => void): void }
  export interface ReceiverOptions { port: number, address?: string | null, transport?: 'udp4' | 'udp6', disableAuthorization?: boolean, includeAuthentication?: boolean, engineID?: string }

  export function createSession(target: string, community: string, options?: SessionOptions): Session
  export function createV3Session(target: string, user: User, options?: SessionOptions): Session
  export function createReceiver(options: ReceiverOptions, cb: (err: Error | null, n: Notification | null) => void): Receiver
  export function isVarbindError(v: Varbind): boolean
  export function varbindError(v: Varbind): string

  export const Version2c: number
  export const Version3: number
  export const ObjectType: Record<string, number> & Record<number, string>
  export const PduType: Record<string, number> & Record<number, string>
  export const SecurityLevel: { noAuthNoPriv: number, authNoPriv: number, authPriv: number }
  export const AuthProtocols: Record<string, string>
  export const PrivProtocols: Record<string, string>
  export class RequestTimedOutError extends Error {}
  export class RequestFailedError extends Error { status: number }
  export class ResponseInvalidError extends Error { code: number }
  export const ResponseInvalidCode: Record<string, number> & Record<number, string>
  const snmp: {
    createSession: typeof createSession
    createV3Session: typeof createV3Session
    createReceiver: typeof createReceiver
    isVarbindError: typeof isVarbindError
    varbindError: typeof varbindError
    Version2c: number
    Version3: number
    ObjectType: typeof ObjectType
    PduType: typeof PduType
    SecurityLevel: typeof SecurityLevel
    AuthProtocols: typeof AuthProtocols
    PrivProtocols: typeof PrivProtocols
    RequestTimedOutError: typeof RequestTimedOutError
    RequestFailedError: typeof RequestFailedError
    ResponseInvalidError: typeof ResponseInvalidError
    ResponseInvalidCode: typeof ResponseInvalidCode
  }
  export default snmp
}
