// The 障害報告書's labels in Japanese and English (like report/i18n.ts, kept apart so the
// monthly report's table stays its own).

import type { Lang } from '../i18n.js'

const W = {
  ja: {
    title: '障害報告書', id: '障害番号', systems: '対象システム', hosts: '対象ホスト', severity: '重要度', generated: '作成日時',
    serviceAffecting: 'サービス影響', major: '重大障害', exempt: '免責', exemptReason: '免責理由', yes: 'あり', no: 'なし',
    timeline: '経過', event: '事象', time: '日時', fromDetection: '検知からの経過 (分)',
    detected: '検知', notified: '担当者への通知', acknowledged: '対応開始', userNotice: '利用者への告知', recovered: '復旧 (監視上)', confirmed: '復旧確認',
    writeUp: '障害の内容', cause: '原因', impact: '影響', affectedUsers: '影響を受けた利用者', actions: '対応内容', prevention: '再発防止策',
    notices: '利用者への告知', message: '告知内容', expected: '復旧見込み', published: '掲載日時', by: '掲載者',
    alerts: '関連アラート', rule: 'ルール', summary: '概要', host: 'ホスト', resolved: '復旧',
    metrics: '前後 1 時間の状況', chartCpu: 'CPU 使用率 (%)', chartMem: 'メモリ使用率 (%)', chartUp: '稼働 (1 = 接続中)',
    noMetrics: 'この時間帯の計測値はありません。', logs: '検知時のログ (先頭)', logsHidden: 'ログ保持期間の短い役割・拠点のログ {n} 行は本文を載せていません', level: 'レベル', source: '出力元', noLogs: '該当するログはありません。',
    history: '記録の変更履歴', actor: '変更者', action: '操作', fields: '項目', before: '変更前', after: '変更後', none: 'なし', notRecorded: '未記録',
    durationMin: '障害時間 (分)', sheetSummary: '概要', sheetTimeline: '経過', sheetAlerts: 'アラート', sheetNotices: '告知', sheetLogs: 'ログ', sheetHistory: '変更履歴',
    targets: '目標との比較', sheetTargets: '目標', measure: '項目', targetMin: '目標 (分以内)', tookMin: '実績 (分)', result: '判定', counted: 'SLA 集計',
    measureRecovery: '復旧 (復旧確認時刻)', measureReport: '報告 (初回の通知メール)', measureNotice: '告知 (利用者への告知)',
    met: '達成', missed: '未達', notJudged: '判定外', countedYes: '対象', countedNo: '対象外', noTargets: '業務システム (systems:) に属さないため、目標との比較はありません。',
    matched: '一致したログ行 (ルールが検知した行、先頭 20 行)', sheetMatched: '一致ログ', lineNo: '行', noMatched: 'ログ監視ルールの障害ではありません。',
    corrected: '訂正', withdrawn: '取り下げ'
  },
  en: {
    title: 'Incident report', id: 'Incident', systems: 'Systems', hosts: 'Hosts', severity: 'Severity', generated: 'Generated',
    serviceAffecting: 'Service affected', major: 'Major incident', exempt: 'Exempt', exemptReason: 'Exemption reason', yes: 'yes', no: 'no',
    timeline: 'Timeline', event: 'Event', time: 'Time', fromDetection: 'Minutes from detection',
    detected: 'Detected', notified: 'On-call notified', acknowledged: 'Acknowledged', userNotice: 'Users notified', recovered: 'Recovered (monitoring)', confirmed: 'Recovery confirmed',
    writeUp: 'Write-up', cause: 'Cause', impact: 'Impact', affectedUsers: 'Users affected', actions: 'Actions taken', prevention: 'Prevention',
    notices: 'Notices to users', message: 'Notice', expected: 'Expected recovery', published: 'Published', by: 'Published by',
    alerts: 'Alerts', rule: 'Rule', summary: 'Summary', host: 'Host', resolved: 'Resolved',
    metrics: 'One hour either side', chartCpu: 'CPU usage (%)', chartMem: 'Memory used (%)', chartUp: 'Up (1 = connected)',
    noMetrics: 'No measurements in this period.', logs: 'Log lines at detection (first)', logsHidden: '{n} lines from roles or sites with a short log retention are left out', level: 'Level', source: 'Source', noLogs: 'No matching log lines.',
    history: 'Edit history', actor: 'By', action: 'Action', fields: 'Fields', before: 'Before', after: 'After', none: 'none', notRecorded: 'not recorded',
    durationMin: 'Duration (min)', sheetSummary: 'Summary', sheetTimeline: 'Timeline', sheetAlerts: 'Alerts', sheetNotices: 'Notices', sheetLogs: 'Logs', sheetHistory: 'Edit history',
    targets: 'Against the targets', sheetTargets: 'Targets', measure: 'Measure', targetMin: 'Target (within min)', tookMin: 'Took (min)', result: 'Result', counted: 'SLA figures',
    measureRecovery: 'Recovery (confirmed time)', measureReport: 'Report (first alert mail)', measureNotice: 'Notice to users',
    met: 'met', missed: 'missed', notJudged: 'not judged', countedYes: 'counted', countedNo: 'not counted', noTargets: 'Not part of a business system (systems:): no targets to judge against.',
    matched: 'Matched lines (the lines the rule matched, first 20)', sheetMatched: 'Matched lines', lineNo: 'Line', noMatched: 'Not an incident of a log rule.',
    corrected: 'Corrected', withdrawn: 'Withdrawn'
  }
} as const

export type IncidentWord = keyof typeof W['ja']

export function incidentWords (lang: Lang): (k: IncidentWord) => string {
  return k => W[lang][k]
}
