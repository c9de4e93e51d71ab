#!/usr/bin/env node
import('../dist/agent/main.js')
