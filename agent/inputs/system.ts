// system: uptime and process count, from /proc on Linux; elsewhere os.uptime()
// and a process count refreshed at most once a minute (it is expensive on Windows).

import { uptime } from 'node:os'
import si from 'systeminformation'
import type { Accumulator, Input } from './input.js'
import { parseLoadavg } from './cpu.js'
import { readProc, useProc } from './proc.js'

export class SystemInput implements Input {
  readonly name = 'system'
  private procCount = -1
  private procAt = 0

  constructor (private readonly procRoot = '/proc', private readonly platform: NodeJS.Platform = process.platform) {}

  async gather (acc: Accumulator, now: number): Promise<void> {
    if (useProc(this.platform)) {
      const [up, load] = await Promise.all([readProc(this.procRoot, 'uptime'), readProc(this.procRoot, 'loadavg')])
      acc.add('system', { uptime_s: Math.floor(Number(up.split(/\s+/)[0])), processes: parseLoadavg(load).processes })
      return
    }
    if (now - this.procAt >= 60_000) {
      this.procCount = (await si.processes()).all
      this.procAt = now
    }
    acc.add('system', { uptime_s: Math.floor(uptime()), ...(this.procCount >= 0 ? { processes: this.procCount } : {}) })
  }
}
