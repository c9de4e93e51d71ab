#!/usr/bin/env node
import('../dist/collector/report/main.js')
