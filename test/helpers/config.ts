// Config files for tests, shared by the in-process collector (collector.ts) and
// the real processes (stack.ts): agents with their tokens, of which only the
// hash goes into collector.yaml, and configs written as YAML.

import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { stringify } from 'yaml'
import { sha256Hex } from '../../collector/ingest/auth.js'

/** An agent the collector accepts: its token (made up when not given) and any other agents[] keys. */
export interface TestAgent {
  id: string
  token?: string
  role?: string
  site?: string
  schedule?: string
  labels?: Record<string, string>
  /** agents[].devices: the devices it may poll */
  devices?: boolean | string[]
  /** agents[].parent */
  parent?: string
}

/** agentEntries turns test agents into collector.yaml agents[] entries, and says each one's token. */
export function agentEntries (agents: readonly TestAgent[]): { agents: Array<Record<string, unknown>>, tokens: Record<string, string> } {
  const tokens: Record<string, string> = {}
  const entries = agents.map(({ token, ...rest }) => {
    tokens[rest.id] = token ?? `token-${rest.id}-${randomBytes(8).toString('hex')}`
    return { ...rest, tokenSha256: sha256Hex(tokens[rest.id]!) }
  })
  return { agents: entries, tokens }
}

/** writeConfig writes a config as YAML, with an optional comment on top, and returns the file. */
export function writeConfig (file: string, config: Record<string, unknown>, comment?: string): string {
  writeFileSync(file, (comment !== undefined ? `# ${comment}\n` : '') + stringify(config, { lineWidth: 0 }))
  return file
}

/** TEST_VIEWER_TOKEN is a viewer API token: /metrics, /api/v1/agents and the /readyz reasons need one. */
export const TEST_VIEWER_TOKEN = 'kanshi-test-viewer-token'

/** viewerApi is collector.yaml's `api:` accepting TEST_VIEWER_TOKEN, besides any other tokens given. */
export function viewerApi (...tokens: Array<Record<string, unknown>>): { tokens: Array<Record<string, unknown>> } {
  return { tokens: [...tokens, { name: 'test-viewer', tokenSha256: sha256Hex(TEST_VIEWER_TOKEN), role: 'viewer' }] }
}

/** asViewer is the request header that sends TEST_VIEWER_TOKEN. */
export const asViewer: Readonly<Record<'authorization', string>> = Object.freeze({ authorization: `Bearer ${TEST_VIEWER_TOKEN}` })
