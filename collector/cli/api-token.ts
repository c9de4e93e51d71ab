// kanshi-collector api-token add: a REST API / console token, printed once;
// the config (api.tokens) keeps only its SHA-256.

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import { loadCollectorConfig } from '../config.js'
import { sha256Hex } from '../ingest/auth.js'
import { writeConfig } from './write-config.js'

const API_ROLES = ['viewer', 'operator', 'admin']

/** apiTokenAdd appends a token to api.tokens, keeping comments, and prints the token once. */
export function apiTokenAdd (file: string, name: string, role: string): number {
  if (!API_ROLES.includes(role)) { process.stderr.write(`kanshi-collector: --role: expected viewer, operator or admin, got ${JSON.stringify(role)}\n`); return 2 }
  const config = loadCollectorConfig(file)
  if (config.api.tokens.some(x => x.name === name)) {
    process.stderr.write(`kanshi-collector: ${file}: api.tokens: a token named "${name}" exists already; remove it first to issue a new one\n`)
    return 2
  }
  const token = randomBytes(32).toString('base64url')
  const doc = parseDocument(readFileSync(file, 'utf8'))
  const entry = doc.createNode({ name, tokenSha256: sha256Hex(token), role })
  entry.flow = true
  if (doc.getIn(['api', 'tokens']) === undefined || doc.getIn(['api', 'tokens']) === null) doc.setIn(['api', 'tokens'], doc.createNode([entry]))
  else doc.addIn(['api', 'tokens'], entry)
  writeConfig(file, doc)
  process.stdout.write(`${token}\n`)
  process.stderr.write(`kanshi-collector: added API token "${name}" (role ${role}) to ${file}; the token above is shown only once. Restart the collector to load it (SIGHUP reloads agents and rules, not API tokens).\n`)
  return 0
}
