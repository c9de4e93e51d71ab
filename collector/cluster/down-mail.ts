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
  const subject = ja
    ? `[kanshi] コレクタ ${d.node} 停止: エージェント ${movedTotal} 台が ${where || '—'} へ移動、${d.lost.length} 台が未接続`
    : `[kanshi] collector ${d.node} down; ${movedTotal} agents moved to ${where || '—'}; ${d.lost.length} not reconnected`
  const lines = ja
    ? [
        `コレクタ ${d.node} からの応答が途絶えました (最終確認 ${localTime(d.lastSeen, timezone, locale)})。`,
        `接続していたエージェント ${d.agents} 台のうち ${movedTotal} 台は他のコレクタへ再接続しました。データは失われていません。`,
        ...Object.entries(d.moved).sort(([a], [b]) => a.localeCompare(b)).map(([n, a]) => `- ${n}: ${list(a)}`),
        d.lost.length === 0 ? '未接続のエージェントはありません。' : `未接続 ${d.lost.length} 台: ${list(d.lost)} (ホスト停止として別途通知されます)`,
        '',
        `対応: ${d.node} のプロセスとホストを確認してください。復旧すると復旧メールが届きます。手順は docs/operations.ja.md「クラスタ」を参照。`
      ]
    : [
        `Collector ${d.node} stopped reporting (last seen ${localTime(d.lastSeen, timezone, locale)}).`,
        `Of the ${d.agents} agents connected to it, ${movedTotal} reconnected to other collectors; no data is lost.`,
        ...Object.entries(d.moved).sort(([a], [b]) => a.localeCompare(b)).map(([n, a]) => `- ${n}: ${list(a)}`),
        d.lost.length === 0 ? 'Every agent reconnected.' : `${d.lost.length} not reconnected: ${list(d.lost)} (their host-down alerts follow separately)`,
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

function escapeHtml (s: string): string {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}
