// kanshi-collector token add|rotate|finish: agent tokens. A token is printed
// once; the config keeps only its SHA-256. A running collector loads it at SIGHUP.

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import { loadCollectorConfig } from '../config.js'
import { sha256Hex } from '../ingest/auth.js'
import { writeConfig } from './write-config.js'

export const TOKEN_USAGE = 'token add|rotate|finish ID [--role ROLE --site SITE] --config FILE'

/** tokenAdd appends an agent entry to the config, keeping its comments, and prints the token once. */
function tokenAdd (file: string, id: string, role: string, site: string): number {
  const config = loadCollectorConfig(file)
  if (config.agents.some(a => a.id === id)) {
    process.stderr.write(`kanshi-collector: ${file}: agents: an agent "${id}" exists already; remove it first to issue a new token\n`)
    return 2
  }
  const token = randomBytes(32).toString('base64url')
  const doc = parseDocument(readFileSync(file, 'utf8'))
  const entry = doc.createNode({ id, tokenSha256: sha256Hex(token), role, site })
  entry.flow = true
  const agents = doc.get('agents')
  if (agents === undefined || agents === null) doc.set('agents', doc.createNode([entry]))
  else doc.addIn(['agents'], entry)
  writeConfig(file, doc)
  process.stdout.write(`${token}\n`)
  process.stderr.write(`kanshi-collector: added agent ${id} (role ${role}${site !== '' ? `, site ${site}` : ''}) to ${file}; the token above is shown only once. Send SIGHUP to a running collector to load it.\n`)
  return 0
}

/**
 * tokenRotate: "rotate" gives an agent a second valid token (tokenSha256Next)
 * and prints it once; "finish" makes that the only token. Each takes effect at
 * the next SIGHUP, which the running collector records in its audit log.
 */
function tokenRotate (file: string, id: string, step: 'rotate' | 'finish'): number {
  const config = loadCollectorConfig(file)
  const i = config.agents.findIndex(a => a.id === id)
  if (i < 0) { process.stderr.write(`kanshi-collector: ${file}: agents: expected an agent "${id}", got none\n`); return 2 }
  const doc = parseDocument(readFileSync(file, 'utf8'))
  const next = config.agents[i]!.tokenSha256Next
  if (step === 'finish') {
    if (next === undefined) { process.stderr.write(`kanshi-collector: ${file}: agents.${i}.tokenSha256Next: expected a token being rotated (run "token rotate ${id}" first), got missing\n`); return 2 }
    doc.setIn(['agents', i, 'tokenSha256'], next)
    doc.deleteIn(['agents', i, 'tokenSha256Next'])
    writeConfig(file, doc)
    process.stderr.write(`kanshi-collector: agent ${id}: the next token is now its only token in ${file}. Send SIGHUP to the collector: connections still using the old token are closed and it is refused from then on.\n`)
    return 0
  }
  const token = randomBytes(32).toString('base64url')
  doc.setIn(['agents', i, 'tokenSha256Next'], sha256Hex(token))
  writeConfig(file, doc)
  process.stdout.write(`${token}\n`)
  process.stderr.write(`kanshi-collector: agent ${id}: a second token stored as tokenSha256Next in ${file}; the token above is shown only once. Send SIGHUP, give the agent the new token and restart it, then run "token finish ${id}" and SIGHUP again.\n`)
  return 0
}

/** token runs the subcommand named in positionals[1], or returns undefined when the arguments do not fit. */
export function token (file: string, positionals: string[], role: string, site: string): number | undefined {
  const [, step, id] = positionals
  if (id === undefined) return undefined
  if (step === 'rotate' || step === 'finish') return tokenRotate(file, id, step)
  if (step === 'add') return tokenAdd(file, id, role, site)
  return undefined
}
