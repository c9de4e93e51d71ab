// Parsers of the outputs that service checks read from system tools, tested on
// recorded outputs (no Windows machine runs the tests): systemctl show, sc query,
// CUPS lpstat -p, PowerShell Get-Printer | ConvertTo-Json.

export interface ParsedState { up: boolean, message: string }

/** systemctl show UNIT -p ActiveState -p SubState -p Result */
export function parseSystemctlShow (text: string): ParsedState {
  const kv = Object.fromEntries(text.split('\n').filter(l => l.includes('=')).map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]))
  const active = kv['ActiveState'] ?? 'unknown'
  const sub = kv['SubState'] ?? 'unknown'
  // oneshot units that finished successfully stay "active (exited)"
  return { up: active === 'active' && (sub === 'running' || sub === 'exited' || sub === 'listening' || sub === 'mounted'), message: `${active} (${sub})` }
}

/** sc query NAME (Windows): the STATE line */
export function parseScQuery (text: string): ParsedState {
  const m = /STATE\s+:\s+(\d+)\s+(\w+)/.exec(text)
  if (m === null) {
    const err = /FAILED (\d+)[:：]?\s*([\s\S]*)/.exec(text)
    return { up: false, message: err !== null ? `sc query failed ${err[1]}: ${err[2]!.trim().split('\n')[0]}` : 'no STATE in sc query output' }
  }
  return { up: m[2] === 'RUNNING', message: m[2]! }
}

export type PrinterState = 'ready' | 'paper_out' | 'error' | 'offline'

export interface PrinterStatus { state: PrinterState, message: string }

/** lpstat -p NAME -l (CUPS): idle/printing is ready; disabled or a media alert is a fault. */
export function parseLpstat (text: string): PrinterStatus {
  const first = text.split('\n').find(l => l.startsWith('printer ')) ?? ''
  const rest = text.toLowerCase()
  if (first === '') return { state: 'offline', message: text.trim().split('\n')[0] ?? 'no printer line' }
  if (/media-empty|media empty|out of paper|paper out|用紙/.test(rest)) return { state: 'paper_out', message: 'paper out' }
  if (/disabled|stopped|paused/.test(first.toLowerCase())) {
    const reason = text.split('\n').slice(1).map(l => l.trim()).filter(l => l !== '').join('; ')
    if (/unplugged|not connected|offline|unable to connect|waiting for printer/.test(rest)) return { state: 'offline', message: reason || 'offline' }
    return { state: 'error', message: reason || 'disabled' }
  }
  return { state: 'ready', message: /printing/.test(first) ? 'printing' : 'idle' }
}

/** Get-Printer -Name X | Select-Object Name,PrinterStatus | ConvertTo-Json — PrinterStatus is a number or a name. */
export function parseGetPrinterJson (text: string): PrinterStatus {
  let o: { PrinterStatus?: number | string } | Array<{ PrinterStatus?: number | string }>
  try { o = JSON.parse(text) } catch { return { state: 'offline', message: 'Get-Printer returned no JSON' } }
  const p = Array.isArray(o) ? o[0] : o
  const st = p?.PrinterStatus
  // PrinterStatus enum of the PrintManagement module: 0 Normal, 1 Paused, 2 Error, 3 PendingDeletion, 4 PaperJam,
  // 5 PaperOut, 6 ManualFeed, 7 PaperProblem, 8 Offline, … 
  const names = ['Normal', 'Paused', 'Error', 'PendingDeletion', 'PaperJam', 'PaperOut', 'ManualFeed', 'PaperProblem', 'Offline']
  const name = typeof st === 'number' ? names[st] ?? `status ${st}` : String(st ?? 'unknown')
  if (name === 'Normal') return { state: 'ready', message: 'Normal' }
  if (/PaperOut|PaperProblem|PaperJam/.test(name)) return { state: 'paper_out', message: name }
  if (/Offline/.test(name)) return { state: 'offline', message: name }
  return { state: 'error', message: name }
}
