// The one mail per dead collector, and the one when it is back: in the receiver's language,
// naming where its agents went and which did not reconnect.

export type Locale = 'ja' | 'en'

export interface NodeDown {
  node: string
  /** agents the node had connected when last seen */
  agents: number
  /** node → agents now connected there */
  moved: Record<string, string[]>
  /** agents connected nowhere */
  lost: string[]
  lastSeen: number
}

const MAX_LISTED = 50

function list (names: readonly string[]): string {
  return names.length <= MAX_LISTED ? names.join(', ') : `${names.slice(0, MAX_LISTED).join(', ')} … (+${names.length - MAX_LISTED})`
}

function localTime (t: number, timezone: string, locale: Locale): string {
  return new Date(t).toLocaleString(locale === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: timezone, hour12: false })
}

/** composeNodeDown: "collector c1 down; N agents moved to c2 (n2), c3 (n3); M not reconnected". */
export function composeNodeDown (d: NodeDown, locale: Locale, timezone: string): { subject: string, text: string, html: string } {
  const ja = locale === 'ja'
  const movedTotal = Object.values(d.moved).reduce((n, a) => n + a.length, 0)
  const where = Object.entries(d.moved).sort(([a], [b]) => a.localeCompare(b)).map(([n, a]) => `${n} (${a.length})`).join(', ')
  // No agent on record (none connected, or the node never reached PostgreSQL to record them): no "0 moved to —".
  const none = d.agents === 0
  const subject = none
    ? (ja ? `[kanshi] コレクタ ${d.node} 停止 (接続中のエージェントの記録なし)` : `[kanshi] collector ${d.node} down (no agents on record as connected to it)`)
    : ja
      ? `[kanshi] コレクタ ${d.node} 停止: エージェント ${movedTotal} 台が ${where || '—'} へ移動、${d.lost.length} 台が未接続`
      : `[kanshi] collector ${d.node} down; ${movedTotal} agents moved to ${where || '—'}; ${d.lost.length} not reconnected`
  const lines = ja
    ? [
        `コレクタ ${d.node} からの応答が途絶えました (最終確認 ${localTime(d.lastSeen, timezone, locale)})。`,
        none
          ? '接続中のエージェントは記録されていません (PostgreSQL に届かないまま動いていた場合も含みます)。エージェントの状態はクラスタ画面で確認してください。'
          : `接続していたエージェント ${d.agents} 台のうち ${movedTotal} 台は他のコレクタへ再接続しました。データは失われていません。`,
        ...Object.entries(d.moved).sort(([a], [b]) => a.localeCompare(b)).map(([n, a]) => `- ${n}: ${list(a)}`),
        ...none ? [] : [d.lost.length === 0 ? '未接続のエージェントはありません。' : `未接続 ${d.lost.length} 台: ${list(d.lost)} (ホスト停止として別途通知されます)`],
        '',
        `対応: ${d.node} のプロセスとホストを確認してください。復旧すると復旧メールが届きます。手順は docs/operations.ja.md「クラスタ」を参照。`
      ]
    : [
        `Collector ${d.node} stopped reporting (last seen ${localTime(d.lastSeen, timezone, locale)}).`,
        none
          ? 'No agents are on record as connected to it (also the case when it ran without reaching PostgreSQL). See the console\'s cluster view for where the agents are.'
          : `Of the ${d.agents} agents connected to it, ${movedTotal} reconnected to other collectors; no data is lost.`,
        ...Object.entries(d.moved).sort(([a], [b]) => a.localeCompare(b)).map(([n, a]) => `- ${n}: ${list(a)}`),
        ...none ? [] : [d.lost.length === 0 ? 'Every agent reconnected.' : `${d.lost.length} not reconnected: ${list(d.lost)} (their host-down alerts follow separately)`],
        '',
        `Action: check the process and host of ${d.node}. A mail follows when it is back. Runbook: docs/operations.md, "Cluster".`
      ]
  const text = lines.join('\n')
  return { subject, text, html: `<pre>${escapeHtml(text)}</pre>` }
}

/** composeNodeBack: the resolved mail. */
export function composeNodeBack (node: string, downAt: number, now: number, locale: Locale, timezone: string): { subject: string, text: string, html: string } {
  const ja = locale === 'ja'
  const minutes = Math.max(0, Math.round((now - downAt) / 60_000))
  const subject = ja ? `[kanshi] [復旧] コレクタ ${node} が復帰しました` : `[kanshi] [RESOLVED] collector ${node} is back`
  const text = ja
    ? `コレクタ ${node} が ${localTime(now, timezone, locale)} にクラスタへ復帰しました (停止検知から約 ${minutes} 分)。エージェントは collector.urls に従って再接続します。`
    : `Collector ${node} rejoined the cluster at ${localTime(now, timezone, locale)} (about ${minutes} min after it was found down). Its agents reconnect to it by their collector.urls.`
  return { subject, text, html: `<pre>${escapeHtml(text)}</pre>` }
}

export interface NodeCutOff {
  node: string
  /** the agents it says it has connected (it answers its peers) */
  agents: string[]
  lastSeen: number
  /** its own PostgreSQL error, as it reported it */
  pgError: string | null
  /** its alerting runs in degraded mode (縮退運転) now */
  degraded: boolean
  degradedSince: number | null
}

/** composeCutOff: "collector c2 cannot reach PostgreSQL; N agents still report through it" — not down, nothing moved. */
export function composeCutOff (d: NodeCutOff, locale: Locale, timezone: string): { subject: string, text: string, html: string } {
  const ja = locale === 'ja'
  const n = d.agents.length
  const subject = ja
    ? `[kanshi] コレクタ ${d.node} が PostgreSQL に接続不可: エージェント ${n} 台は ${d.node} 経由で収集継続 (縮退運転)`
    : `[kanshi] collector ${d.node} cannot reach PostgreSQL; ${n} agents still report through it; its alerts run in 縮退運転 (degraded mode) there`
  const since = d.degradedSince === null ? '' : localTime(d.degradedSince, timezone, locale)
  const lines = ja
    ? [
        `コレクタ ${d.node} は PostgreSQL に接続できていません (最終書き込み ${localTime(d.lastSeen, timezone, locale)})。ただし他のコレクタからの問い合わせには応答しており、停止ではありません。`,
        d.pgError === null ? '' : `${d.node} の報告するエラー: ${d.pgError}`,
        n === 0 ? '接続中のエージェントはありません。' : `エージェント ${n} 台は ${d.node} に接続したまま送信を続けています (データは ${d.node} の WAL と InfluxDB へ保存): ${list(d.agents)}`,
        'これらのエージェントはホスト停止と判定しません (host_up=0 も書きません)。',
        d.degraded ? `${d.node} のアラートは縮退運転中です (${since} から): 重大アラートのみ ${d.node} が単独で送信し (件名に [縮退運転])、他は PostgreSQL 復旧後に照合して送信します。` : `${d.node} のアラートは PostgreSQL の復旧を待っています。cluster.degradedAfter を過ぎると縮退運転 (重大アラートのみ単独送信) に入ります。`,
        '',
        `対応: ${d.node} のホストから PostgreSQL への経路を確認してください (psql、ファイアウォール、ルーティング)。つながると復旧メールが届きます。手順は docs/operations.ja.md「クラスタ」を参照。`
      ]
    : [
        `Collector ${d.node} cannot reach PostgreSQL (last write ${localTime(d.lastSeen, timezone, locale)}), but it answers the other collectors: it is not down.`,
        d.pgError === null ? '' : `Error reported by ${d.node}: ${d.pgError}`,
        n === 0 ? 'No agent is connected to it.' : `${n} agents stay connected to ${d.node} and keep sending (stored in its WAL and InfluxDB): ${list(d.agents)}`,
        'They are not judged down (no host-down alert, no host_up=0).',
        d.degraded ? `Its alerts run in 縮退運転 (degraded mode) since ${since}: ${d.node} mails critical alerts alone (subject [DEGRADED]) and holds the others until PostgreSQL is back and reconciled.` : `Its alerts wait for PostgreSQL; after cluster.degradedAfter they run in 縮退運転 (degraded mode: critical alerts mailed by ${d.node} alone).`,
        '',
        `Action: check the path from ${d.node}'s host to PostgreSQL (psql, firewall, routing). A mail follows when it reaches it again. Runbook: docs/operations.md, "Cluster".`
      ]
  const text = lines.filter((l, i) => l !== '' || i === lines.length - 2).join('\n')
  return { subject, text, html: `<pre>${escapeHtml(text)}</pre>` }
}

/** composeCutOffBack: the resolved mail when a cut-off collector reaches PostgreSQL again. */
export function composeCutOffBack (node: string, since: number, now: number, locale: Locale, timezone: string): { subject: string, text: string, html: string } {
  const ja = locale === 'ja'
  const minutes = Math.max(0, Math.round((now - since) / 60_000))
  const subject = ja ? `[kanshi] [復旧] コレクタ ${node} が PostgreSQL に復帰しました` : `[kanshi] [RESOLVED] collector ${node} is back in PostgreSQL`
  const text = ja
    ? `コレクタ ${node} が ${localTime(now, timezone, locale)} に PostgreSQL へ再接続しました (接続不可の検知から約 ${minutes} 分)。縮退運転中の記録は自動で照合されます。`
    : `Collector ${node} reached PostgreSQL again at ${localTime(now, timezone, locale)} (about ${minutes} min after it was found cut off). What it recorded in degraded mode is reconciled by itself.`
  return { subject, text, html: `<pre>${escapeHtml(text)}</pre>` }
}

function escapeHtml (s: string): string {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}
