// Security events among log records: the Windows Security and Defender events
// and sshd's logins, tagged `kind` on their log_event so alert rules and the
// monthly report can count them. Cheap on the hot path: a record that is
// neither a Windows event nor mentions ssh costs two string checks.

/** The kinds a log_event may be tagged with (tag `kind`). */
export const SECURITY_KINDS = ['logon_failure', 'lockout', 'logon', 'malware', 'malware_action', 'malware_action_failed'] as const
export type SecurityKind = typeof SECURITY_KINDS[number]

/**
 * Logon types that count as a person's login (4624): 2 interactive (console),
 * 10 remote interactive (Remote Desktop), 11 cached interactive (a domain
 * account logging on without the domain controller). Network (3), service (5),
 * batch (4) and unlock (7) logons are machines or repeats, not logins.
 */
export const LOGIN_TYPES: ReadonlySet<number> = new Set([2, 10, 11])

// "Logon Type:\t\t2" (English) and "ログオン タイプ:\t\t2" (Japanese Windows).
const LOGON_TYPE = /(?:Logon Type|ログオン\s*タイプ|ログオンの種類)\s*[:：]\s*(\d+)/

/** Defender's operational events: 1116 detected, 1117 action taken, 1118/1119 action failed. */
const DEFENDER: Readonly<Record<number, SecurityKind>> = { 1116: 'malware', 1117: 'malware_action', 1118: 'malware_action_failed', 1119: 'malware_action_failed', 1006: 'malware' }

/** windowsKind reads "[4625] message" records of the event log (winevent.ts writes the id first). */
function windowsKind (source: string, text: string): SecurityKind | undefined {
  if (text.charCodeAt(0) !== 0x5b) return undefined // '['
  const end = text.indexOf(']', 1)
  if (end < 2 || end > 7) return undefined
  const id = Number(text.slice(1, end))
  if (source.includes('Security')) {
    switch (id) {
      case 4625: return 'logon_failure'
      case 4740: return 'lockout'
      case 4624: {
        const m = LOGON_TYPE.exec(text)
        return m !== null && LOGIN_TYPES.has(Number(m[1])) ? 'logon' : undefined
      }
      default: return undefined
    }
  }
  if (source.includes('Defender')) return DEFENDER[id]
  return undefined
}

// OpenSSH's lines: "Failed password for [invalid user ]x from ...", "Accepted publickey for x from ...".
// "message repeated N times: [ Failed ...]" (rsyslog) matches too, counted once.
const SSH_LOGIN = /\b(Failed|Accepted) (?:password|publickey|keyboard-interactive\S*|gssapi-with-mic|hostbased|none) for /
// pam_faillock / pam_tally2 locking an account after repeated failures.
const PAM_LOCK = /pam_(?:faillock|tally2?)\b.*(?:[Cc]onsecutive login failures|account temporarily locked|user locked)/

/**
 * classify returns the security kind of a record, or undefined for the rest.
 * source is the event's source (winevent:<channel>/<provider>, journald:<unit>,
 * or a file path); text is the record after redaction.
 */
export function classify (source: string, text: string): SecurityKind | undefined {
  if (source.startsWith('winevent:')) return windowsKind(source, text)
  if (!text.includes('sshd') && !source.includes('ssh')) {
    return text.includes('pam_') && PAM_LOCK.test(text) ? 'lockout' : undefined
  }
  const m = SSH_LOGIN.exec(text)
  if (m !== null) return m[1] === 'Failed' ? 'logon_failure' : 'logon'
  return PAM_LOCK.test(text) ? 'lockout' : undefined
}
