// Checks that ask a system tool: systemd units (systemctl), Windows services
// (sc query), printers (CUPS lpstat, PowerShell Get-Printer). The tool runs as
// a child process killed at the check's timeout.

import { execFile } from 'node:child_process'
import type { Check } from './types.js'
import { parseGetPrinterJson, parseLpstat, parseScQuery, parseSystemctlShow } from './parsers.js'

function run (file: string, args: string[], signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { signal, timeout: 0, maxBuffer: 1024 * 1024, windowsHide: true, encoding: 'utf8' }, (err, stdout, stderr) => {
      // systemctl and sc exit non-zero for stopped units; their output still says why.
      if (err !== null && stdout === '' && stderr === '') reject(err)
      else resolve(stdout + stderr)
    })
  })
}

export function systemdCheck (unit: string): Check {
  return async signal => parseSystemctlShow(await run('systemctl', ['show', unit, '-p', 'ActiveState', '-p', 'SubState'], signal))
}

export function windowsServiceCheck (name: string): Check {
  return async signal => parseScQuery(await run('sc.exe', ['query', name], signal))
}

export function printerCheck (name: string, platform: NodeJS.Platform = process.platform): Check {
  return async signal => {
    const s = platform === 'win32'
      ? parseGetPrinterJson(await run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', `Get-Printer -Name '${name.replace(/'/g, "''")}' | Select-Object Name,PrinterStatus | ConvertTo-Json`], signal))
      : parseLpstat(await run('lpstat', ['-p', name, '-l'], signal))
    return { up: s.state === 'ready', message: s.state === 'ready' ? s.message : `${s.state}: ${s.message}` }
  }
}
