#!/usr/bin/env node
// kanshi-agent runs the single-file bundle, the same program (and footprint) the installers deploy.
import { existsSync } from 'node:fs'
import process from 'node:process'
import { URL } from 'node:url'

const bundle = new URL('../dist/kanshi-agent.mjs', import.meta.url)
if (!existsSync(bundle)) {
  process.stderr.write('kanshi-agent: dist/kanshi-agent.mjs is missing: run "npm run build" (tsc, then scripts/bundle.ts)\n')
  process.exit(1)
}
await import(bundle.href)
