// A day's manifest: what the day holds (records, first and last hash, the file's digest) and the
// day before it in the chain, signed with Ed25519. The file is the manifest JSON on one line and
// the base64 signature of exactly those bytes on the next, so a verifier needs only the public key.

import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { WalPos } from './record.js'

export interface Manifest {
  v: 1
  day: string
  file: string
  records: number
  /** the hash before the day's first record: the previous day's lastHash (or GENESIS) */
  prevHash: string
  /** the previous day in the chain, if any */
  prevDay: string | null
  firstHash: string
  lastHash: string
  /** WAL position of the last record (a restart skips what is at or before it) */
  lastW: WalPos
  /** the newest audit.db id archived (0: none) */
  lastAudit?: number
  /** SHA-256 and size of the day's gzip file as closed */
  sha256: string
  bytes: number
  closedAt: number
}

/**
 * Head is the open day's witness, rewritten (signed) at most every second after appends: the
 * day's file must hold at least `records` records, the last of them hashing to `lastHash`, so a
 * cut of the open day's tail shows before the day is closed.
 */
export interface Head { v: 1, day: string, records: number, lastHash: string, at: number }

/** encodeSigned signs an object: the file content (JSON line, base64 signature line). */
export function encodeSigned (m: Manifest | Head, key: KeyObject): string {
  const json = JSON.stringify(m)
  return `${json}\n${sign(null, Buffer.from(json), key).toString('base64')}\n`
}

/** decodeSigned reads a signed file's text, checking the signature; it returns a reason string when bad. */
export function decodeSigned<T extends Manifest | Head> (text: string, pub: KeyObject | undefined, what = 'manifest'): T | string {
  const [json, sig] = text.split('\n')
  let m: T
  try { m = JSON.parse(json ?? '') as T } catch { return `the ${what} is not JSON` }
  if (pub !== undefined && (sig === undefined || !verify(null, Buffer.from(json!), pub, Buffer.from(sig, 'base64')))) return `the ${what}'s signature does not match (altered ${what}, or another key)`
  return m
}

export const encodeManifest = (m: Manifest, key: KeyObject): string => encodeSigned(m, key)
export const decodeManifest = (text: string, pub: KeyObject | undefined): Manifest | string => decodeSigned<Manifest>(text, pub)

/** loadSigningKey reads a PEM Ed25519 private key; it throws naming the file. */
export function loadSigningKey (file: string): KeyObject {
  let k: KeyObject
  try { k = createPrivateKey(readFileSync(file)) } catch (err) { throw new Error(`${file}: expected a PEM private key: ${(err as Error).message}`) }
  if (k.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: expected an Ed25519 key, got ${k.asymmetricKeyType ?? 'an unknown type'}`)
  return k
}

/** loadPublicKey reads a PEM Ed25519 public key, or derives it from a private one; it throws naming the file. */
export function loadPublicKey (file: string): KeyObject {
  let k: KeyObject
  try { k = createPublicKey(readFileSync(file)) } catch (err) { throw new Error(`${file}: expected a PEM public (or private) key: ${(err as Error).message}`) }
  if (k.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: expected an Ed25519 key, got ${k.asymmetricKeyType ?? 'an unknown type'}`)
  return k
}

/** newKeyPair makes an Ed25519 key pair as PEM text. */
export function newKeyPair (): { privatePem: string, publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString()
  }
}
