// The mail that carries a generated report: a subject with the kind and period,
// an HTML (and plain text) body with what needs action, and the XLSX and PDF attached.

import { basename } from 'node:path'
import type { ReportKind } from './schedule.js'

export type Locale = 'ja' | 'en'

const WORDS = {
  ja: {
    daily: '日次業務報告書', monthly: '月次報告書', period: { daily: '対象日', monthly: '対象月' },
    needsAction: '要対応事項', none: '要対応事項はありません。', attached: '添付ファイル', noPdf: 'PDF は作成されませんでした',
    console: 'コンソールで一覧・ダウンロード', footer: 'このメールは kanshi (監視) が自動送信しています。'
  },
  en: {
    daily: 'Daily operations report', monthly: 'Monthly report', period: { daily: 'Day', monthly: 'Month' },
    needsAction: 'Needs action', none: 'Nothing needs action.', attached: 'Attached', noPdf: 'No PDF was made',
    console: 'List and download in the console', footer: 'This mail was sent by kanshi.'
  }
} as const

export interface ReportMailInput {
  kind: ReportKind
  period: string
  locale: Locale
  summary: readonly string[]
  /** absolute paths of the attached files */
  attachments: readonly string[]
  pdfSkipped?: string | undefined
  /** the collector's URL as people reach it (alerting.publicUrl) */
  publicUrl?: string | undefined
}

export interface ReportMail { subject: string, text: string, html: string }

function escapeHtml (s: string): string {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** attachable picks the files a report mail carries: the workbook and the PDF. */
export function attachable (files: readonly string[]): string[] {
  return files.filter(f => /\.(xlsx|pdf)$/i.test(f))
}

export function composeReportMail (i: ReportMailInput): ReportMail {
  const w = WORDS[i.locale]
  const title = `${w[i.kind]} ${i.period}`
  const subject = `[kanshi] ${title}`
  const names = i.attachments.map(f => basename(f))
  const link = i.publicUrl === undefined ? undefined : `${i.publicUrl.replace(/\/+$/, '')}/`
  const text = [
    title, '',
    `${w.period[i.kind]}: ${i.period}`, '',
    `${w.needsAction}:`,
    ...(i.summary.length === 0 ? [w.none] : i.summary.map(s => `- ${s}`)), '',
    `${w.attached}: ${names.join(', ')}`,
    ...(i.pdfSkipped !== undefined ? [`${w.noPdf}: ${i.pdfSkipped}`] : []),
    ...(link !== undefined ? [`${w.console}: ${link}`] : []),
    '', w.footer
  ].join('\n')
  const html = `<!doctype html><html lang="${i.locale}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="font-family: sans-serif">
<h1 style="font-size: 1.3em">${escapeHtml(title)}</h1>
<p>${escapeHtml(w.period[i.kind])}: ${escapeHtml(i.period)}</p>
<h2 style="font-size: 1.1em">${escapeHtml(w.needsAction)}</h2>
${i.summary.length === 0 ? `<p>${escapeHtml(w.none)}</p>` : `<ul>${i.summary.map(s => `<li>${escapeHtml(s)}</li>`).join('')}</ul>`}
<p>${escapeHtml(w.attached)}: ${names.map(escapeHtml).join(', ')}</p>
${i.pdfSkipped !== undefined ? `<p>${escapeHtml(w.noPdf)}: ${escapeHtml(i.pdfSkipped)}</p>` : ''}
${link !== undefined ? `<p><a href="${escapeHtml(link)}">${escapeHtml(w.console)}</a></p>` : ''}
<p style="color: #666">${escapeHtml(w.footer)}</p>
</body></html>`
  return { subject, text, html }
}
