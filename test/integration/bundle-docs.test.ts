// The install and operations docs stay true to the tree: every relative link
// (and #anchor) resolves, every `npm run X` names a script in package.json,
// and every program subcommand the runbooks tell operators to type is one
// the program's --help lists.

import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..', '..')
const docs = ['README.md', 'README.ja.md', 'docs/operations.md', 'docs/operations.ja.md', 'docs/upgrade.md', 'docs/docker.md', 'docs/deploy-linux.md', 'docs/deploy-windows.md']
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts

/** slug makes GitHub's heading anchor: lower case, punctuation dropped (letters of any script kept), spaces to hyphens. */
function slug (heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
}

function anchors (file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '')
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map(m => slug(m[1]!)))
}

for (const doc of docs) {
  t.test(doc, async t => {
    const file = join(root, doc)
    const text = readFileSync(file, 'utf8')
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map(m => m[1]!).filter(l => !/^[a-z]+:/.test(l))
    for (const link of links) {
      const [path, anchor] = link.split('#')
      const target = path === '' ? file : resolve(dirname(file), path!)
      t.ok(existsSync(target), `${doc}: link ${link} → ${target.slice(root.length + 1)} exists`)
      if (anchor !== undefined && existsSync(target) && target.endsWith('.md')) {
        t.ok(anchors(target).has(decodeURIComponent(anchor)), `${doc}: anchor #${anchor} exists in ${target.slice(root.length + 1)}`)
      }
    }
    for (const m of text.matchAll(/npm run ([a-z:]+)/g)) t.ok(m[1]! in scripts, `${doc}: npm run ${m[1]} is a script`)
  })
}

t.test('commands the runbooks tell operators to type exist', async t => {
  const help = (prog: string): string => {
    const r = spawnSync(process.execPath, [join(root, 'bin', `${prog}.js`), '--help'], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`${prog} --help failed (run npm run build first): ${r.stderr}`)
    return r.stdout
  }
  const collector = help('kanshi-collector')
  const agent = help('kanshi-agent')
  t.match(collector, /token add ID --role ROLE --site SITE --config FILE/)
  t.match(collector, /--version/)
  t.match(collector, /SIGHUP reloads/)
  t.match(agent, /job run --name NAME/)
  t.match(agent, /--version/)
  const ps1 = readFileSync(join(root, 'deploy', 'windows', 'install-agent.ps1'), 'utf8')
  for (const p of ['WinSW', 'Node', 'Id', 'CollectorUrl', 'CaFile', 'Rollback', 'Uninstall', 'RemoveData']) {
    t.match(ps1, new RegExp(`\\[(string|switch)\\]\\$${p}\\b`), `install-agent.ps1 has -${p}`)
  }
  const used = new Set(docs.flatMap(d => [...readFileSync(join(root, d), 'utf8').matchAll(/install-agent\.ps1[^\n]*? -([A-Z][A-Za-z]+)/g)].map(m => m[1]!)))
  for (const p of used) t.match(ps1, new RegExp(`\\$${p}\\b`), `docs use install-agent.ps1 -${p}, which exists`)
})
