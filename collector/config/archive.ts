// archive: the tamper-evident log archive (collector/archive/): daily gzip files under
// dataDir/archive, each record chained by SHA-256, each day closed by a manifest signed with Ed25519.

import { Type, type StaticDecode } from '@sinclair/typebox'
import { join } from 'node:path'
import { ConfigError, DurationMs, SizeBytes, Strict } from '../../common/config.js'
import { loadPublicKey, loadSigningKey } from '../archive/manifest.js'

export const ArchiveSchema = Type.Object({
  enabled: Type.Boolean({ default: false, description: 'true or false' }),
  dir: Type.String({ default: '', description: 'a directory path' }),
  signingKey: Type.String({ default: '', description: 'the path of a PEM Ed25519 private key (kanshi-collector archive keygen)' }),
  publicKey: Type.String({ default: '', description: 'the path of a PEM Ed25519 public key' }),
  // A fiscal year (April–March) plus the audit of it in the next spring, like reports.keep.
  keep: DurationMs({ default: '400d', min: 86_400_000, description: 'a duration such as "400d" (at least 1d)' }),
  minFree: SizeBytes({ default: '256MiB', description: 'a size such as "256MiB" or a number of bytes' }),
  holdFraction: Type.Number({ default: 0.5, minimum: 0.05, maximum: 0.95, description: 'a fraction of wal.maxBytes between 0.05 and 0.95' })
}, { ...Strict, default: {} })

export type ArchiveConfig = StaticDecode<typeof ArchiveSchema>

/** checkArchive resolves the paths beside the config file (dir defaults to dataDir/archive); an enabled archive needs a key that loads. */
export function checkArchive (file: string, a: ArchiveConfig, path: (p: string) => string, dataDir: string): ArchiveConfig {
  if (a.enabled && a.signingKey === '') throw new ConfigError(file, 'archive.signingKey', 'expected the path of a PEM Ed25519 private key to sign each day\'s manifest (make one with "kanshi-collector archive keygen --out FILE")')
  const out = {
    ...a,
    dir: a.dir === '' ? join(dataDir, 'archive') : path(a.dir),
    signingKey: a.signingKey === '' ? '' : path(a.signingKey),
    publicKey: a.publicKey === '' ? '' : path(a.publicKey)
  }
  // A key that will not load stops the collector (and --check-config) here, naming the key.
  for (const [k, load] of [['signingKey', loadSigningKey], ['publicKey', loadPublicKey]] as const) {
    if (out[k] === '' || (k === 'signingKey' && !a.enabled)) continue
    try { load(out[k]) } catch (err) { throw new ConfigError(file, `archive.${k}`, (err as Error).message) }
  }
  return out
}
