// Readers for the output of the system ping: iputils/busybox on Linux (run in
// the C locale) and ping.exe on Windows, whose text is localized (English,
// Japanese …) and in the console code page: only its ASCII parts are read.

/** PingStats is what one run of ping tells: probes sent and answered, round trips in ms. */
export interface PingStats { sent: number, received: number, rttAvgMs?: number, rttMinMs?: number, rttMaxMs?: number }

/**
 * parseLinuxPing reads iputils' (or busybox's) summary:
 *   "3 packets transmitted, 2 received, +1 errors, 33.3333% packet loss, time 2003ms"
 *   "rtt min/avg/max/mdev = 0.034/0.158/0.359/0.143 ms"  (busybox: "round-trip min/avg/max = …")
 * undefined when there is no summary (unknown host, no permission).
 */
export function parseLinuxPing (text: string): PingStats | undefined {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text)
  if (counts === null) return undefined
  const out: PingStats = { sent: Number(counts[1]), received: Number(counts[2]) }
  const rtt = /min\/avg\/max(?:\/(?:mdev|stddev))? = ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(text)
  if (rtt !== null && out.received > 0) {
    out.rttMinMs = Number(rtt[1])
    out.rttAvgMs = Number(rtt[2])
    out.rttMaxMs = Number(rtt[3])
  }
  return out
}

/**
 * parseWindowsPing reads ping.exe's output in any language. A reply is a line
 * with "TTL=" ("Reply from …: bytes=32 time=1ms TTL=64", "… からの応答: バイト数 =32
 * 時間 <1ms TTL=64") or, for IPv6, with one round-trip time; "Destination host
 * unreachable" lines, which Windows counts as received, are not. "time<1ms"
 * counts as 1 ms, an upper bound.
 */
export function parseWindowsPing (text: string, sent: number): PingStats {
  const times: number[] = []
  for (const line of text.split(/\r?\n/)) {
    // IPv6 replies have no TTL ("Reply from ::1: time<1ms"): a line with exactly one time is a
    // reply too; the summary ("Minimum = 0ms, Maximum = 1ms, Average = 0ms") has three.
    const ms = [...line.matchAll(/[=<]\s*(\d+)\s*ms\b/gi)]
    if (!/\bTTL=\d+/i.test(line) && ms.length !== 1) continue
    times.push(ms.length === 0 ? NaN : Number(ms[0]![1]))
  }
  const out: PingStats = { sent, received: times.length }
  const known = times.filter(Number.isFinite)
  if (known.length > 0) {
    out.rttAvgMs = known.reduce((a, b) => a + b, 0) / known.length
    out.rttMinMs = Math.min(...known)
    out.rttMaxMs = Math.max(...known)
  }
  return out
}
