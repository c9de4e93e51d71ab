// archive: in collector.yaml: defaults, paths beside the file, and a key that will not load named.

import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkCollectorConfig } from '../../collector/config.js'
import { newKeyPair } from '../../collector/archive/manifest.js'
import { tmpDir } from '../helpers/tmp.js'

t.test('archive: defaults, paths, and keys checked at load', async t => {
  const dir = await tmpDir(t)
  const file = join(dir, 'collector.yaml')
  const off = checkCollectorConfig(file, {})
  t.match(off.archive, { enabled: false, keep: 400 * 86_400_000, minFree: 256 * 1024 * 1024, holdFraction: 0.5 })
  t.equal(off.archive.dir, join(dir, 'var', 'collector', 'archive'), 'dir: dataDir/archive')
  t.throws(() => checkCollectorConfig(file, { archive: { enabled: true } }), /collector\.yaml: archive\.signingKey: expected the path of a PEM Ed25519 private key/)
  t.throws(() => checkCollectorConfig(file, { archive: { enabled: true, signingKey: 'missing.key' } }), /archive\.signingKey: .*missing\.key: expected a PEM private key/)
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' })
  writeFileSync(join(dir, 'rsa.key'), rsa)
  t.throws(() => checkCollectorConfig(file, { archive: { enabled: true, signingKey: 'rsa.key' } }), /archive\.signingKey: .*expected an Ed25519 key, got rsa/)
  writeFileSync(join(dir, 'a.key'), newKeyPair().privatePem)
  const on = checkCollectorConfig(file, { archive: { enabled: true, signingKey: 'a.key', dir: 'arch', keep: '30d' } })
  t.match(on.archive, { enabled: true, signingKey: join(dir, 'a.key'), dir: join(dir, 'arch'), keep: 30 * 86_400_000 })
  t.throws(() => checkCollectorConfig(file, { archive: { keep: '1h' } }), /archive\.keep: expected a duration such as "400d" \(at least 1d\)/)
  t.throws(() => checkCollectorConfig(file, { archive: { publicKey: 'nope.pub' } }), /archive\.publicKey: .*nope\.pub/)
  t.throws(() => checkCollectorConfig(file, { archive: { enable: true } }), /archive/)
})
