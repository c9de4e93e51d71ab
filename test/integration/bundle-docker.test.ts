// docker-compose.yml and the Dockerfile, checked without Docker (it cannot run
// on the build machines): the compose file parses, has the three services, and
// every file it or the Dockerfile takes from the repository exists; the
// collector config it ships passes the collector's own validation; the
// InfluxDB init script is valid bash.

import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse } from 'yaml'
import { loadCollectorConfig } from '../../collector/config.js'

const root = resolve(import.meta.dirname, '..', '..')
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { image?: string, build?: unknown, environment?: Record<string, string>, volumes?: string[], ports?: string[] }>
  volumes: Record<string, unknown>
}

t.test('compose: services, images, InfluxDB setup', async t => {
  t.same(Object.keys(compose.services).sort(), ['collector', 'grafana', 'influxdb'])
  t.match(compose.services.influxdb!.image, /^influxdb:2(\.|$)/, 'InfluxDB 2')
  const env = compose.services.influxdb!.environment!
  t.equal(env.DOCKER_INFLUXDB_INIT_MODE, 'setup')
  for (const k of ['USERNAME', 'PASSWORD', 'ORG', 'BUCKET', 'RETENTION', 'ADMIN_TOKEN']) t.ok(env[`DOCKER_INFLUXDB_INIT_${k}`], `DOCKER_INFLUXDB_INIT_${k} set`)
  t.equal(compose.services.collector!.build, '.', 'collector built from the Dockerfile here')
  t.equal(compose.services.collector!.environment!.KANSHI_INFLUX_TOKEN, compose.services.influxdb!.environment!.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN, 'the collector writes with the token InfluxDB was set up with')
})

t.test('compose: every bind mount names a file in the repository, every named volume is declared', async t => {
  for (const [name, svc] of Object.entries(compose.services)) {
    for (const v of svc.volumes ?? []) {
      const [src, target] = v.split(':')
      t.ok(target?.startsWith('/'), `${name}: ${v} mounts at an absolute path`)
      if (src!.startsWith('./')) t.ok(existsSync(join(root, src!)), `${name}: ${src} exists`)
      else t.ok(src! in compose.volumes, `${name}: volume ${src} declared`)
    }
  }
})

t.test('Dockerfile: every COPY source exists and the image runs the collector', async t => {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8')
  const copies = [...text.matchAll(/^COPY (?!--from)(.+)$/gm)].map(m => m[1]!.trim().split(/\s+/).slice(0, -1)).flat()
  t.ok(copies.length >= 8, 'found the COPY lines')
  for (const src of copies) t.ok(existsSync(join(root, src)), `COPY ${src} exists`)
  t.match(text, /ENTRYPOINT \["node", "\/opt\/kanshi\/dist\/collector\/main\.js"\]/)
  t.match(text, /^USER node$/m, 'runs unprivileged')
  const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n')
  t.ok(ignore.includes('node_modules') && ignore.includes('.env'), 'no host node_modules or secrets in the build context')
})

t.test('the shipped collector.yaml is valid for the collector, with the token from the environment', async t => {
  const config = loadCollectorConfig(join(root, 'deploy', 'docker', 'collector.yaml'), { KANSHI_INFLUX_TOKEN: 'x' })
  t.equal(config.influx.version, 2)
  t.equal(config.influx.url, 'http://influxdb:8086', 'the compose service name')
  t.equal(config.influx.bucket, compose.services.influxdb!.environment!.DOCKER_INFLUXDB_INIT_BUCKET)
  t.equal(config.influx.org, compose.services.influxdb!.environment!.DOCKER_INFLUXDB_INIT_ORG)
  t.equal(config.listen.port, 8080)
  t.ok(compose.services.collector!.ports!.some(p => p.endsWith(':8080')), 'published')
})

t.test('InfluxDB init script and Grafana datasource', async t => {
  const script = join(root, 'deploy', 'docker', 'influxdb-init.sh')
  const r = spawnSync('bash', ['-n', script], { encoding: 'utf8' })
  t.equal(r.status, 0, `bash -n: ${r.stderr}`)
  const text = readFileSync(script, 'utf8')
  t.match(text, /--rp kanshi_raw --bucket-id "\$DOCKER_INFLUXDB_INIT_BUCKET_ID" --default/, 'raw bucket mapped as the default RP')
  t.match(text, /--rp kanshi_5m --bucket-id "\$rollup_id"/, 'rollup bucket mapped as kanshi_5m')
  const ds = parse(readFileSync(join(root, 'deploy', 'docker', 'grafana-datasource.yaml'), 'utf8')) as { datasources: Array<{ uid: string, url: string }> }
  const shipped = parse(readFileSync(join(root, 'dashboards', 'provisioning', 'datasources', 'kanshi.yaml'), 'utf8')) as { datasources: Array<{ uid: string }> }
  t.equal(ds.datasources[0]!.uid, shipped.datasources[0]!.uid, 'same datasource uid as the dashboards use')
  t.equal(ds.datasources[0]!.url, 'http://influxdb:8086')
})
