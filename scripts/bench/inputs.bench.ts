// Cost of one gather per input: /proc + statfs (what the agent uses on Linux)
// against systeminformation (what it uses elsewhere), in one process, on this
// machine. Prints µs per gather and the ratio systeminformation / proc.

import { createSystemInputs, SYSTEM_INPUTS } from '../../agent/inputs/index.js'
import { PointAccumulator } from '../../agent/inputs/input.js'

const rounds = Number(process.argv[2] ?? 50)

async function time (platform: NodeJS.Platform, name: string): Promise<{ us: number, cpuUs: number }> {
  const [input] = createSystemInputs({ enabled: [name], platform })
  await input!.gather(new PointAccumulator(Date.now()), Date.now()) // warm-up and first counter reading
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < rounds; i++) await input!.gather(new PointAccumulator(Date.now()), Date.now())
  const wall = (performance.now() - t0) * 1000 / rounds
  const c = process.cpuUsage(cpu0)
  return { us: Math.round(wall), cpuUs: Math.round((c.user + c.system) / rounds) }
}

const rows: string[] = ['| input | /proc µs/gather (wall) | systeminformation µs/gather (wall) | ratio si/proc | /proc CPU µs | si CPU µs (this process) |', '|---|---|---|---|---|---|']
for (const name of SYSTEM_INPUTS) {
  const proc = await time('linux', name)
  const si = await time('win32', name) // the non-Linux code path, running on Linux through systeminformation
  rows.push(`| ${name} | ${proc.us} | ${si.us} | ${(si.us / Math.max(1, proc.us)).toFixed(1)}× | ${proc.cpuUs} | ${si.cpuUs} |`)
}
process.stdout.write(`rounds per input: ${rounds}\n${rows.join('\n')}\n`)
