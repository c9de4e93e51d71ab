// The incident record's row: one alert from firing to resolved, and the 障害 write-up it carries.

export interface Incident {
  id: number
  rule: string
  severity: string
  host: string
  labels: Record<string, string>
  summary: string
  summary_en: string
  /** rendered description templates (may be empty) */
  description: string
  description_en: string
  value: number
  threshold: number | null
  detected_at: number
  notified_at: number | null
  acked_at: number | null
  acked_by: string | null
  resolved_at: number | null
  resolve_reason: string | null
  escalated_at: number | null
  /** id of the silence or maintenance window that muted it, e.g. "maintenance:3" */
  suppressed_by: string | null
  last_notified_at: number | null
  resolved_notified: number
  series_key: string
  /** the business systems (config systems:) the alert belongs to, set when it opens */
  systems: string[]
  // The write-up (障害報告書) operators edit through PATCH /v1/incidents/:id.
  cause_text: string
  impact: string
  affected_users: string
  actions: string
  prevention: string
  /** 復旧確認時刻: the recovery time the client confirmed; the SLA figures prefer it to resolved_at */
  confirmed_recovery_at: number | null
  /** null: judged by severity (critical affects service); 1/0: set by an operator */
  service_affecting: number | null
  /** null: judged by the report's major rule; 1/0: set by an operator */
  major_override: number | null
  /** 免責: set when the cause lies outside the contractor's scope */
  exempt_category: string | null
  exempt_reason: string | null
  /** the incident this alert was merged into (one 障害 of several alerts); null for a primary */
  merged_into: number | null
  /** when the first notice to users (障害発生告知) was published */
  user_notice_at: number | null
  /** null: the highest severity of its alerts; critical|warning|info: set by an operator */
  severity_override: string | null
  /** log rules: the first lines the rule matched (at most 20, 500 characters each), stored as it fired */
  matched_lines: string[]
}
