// The notification chain's common shapes: a Notice is one mail to be, and every
// planning step is a Stage with one method, after Alertmanager's notify.Stage.

import type { Locale } from '../mail.js'
import type { Incident } from '../store.js'

export type NoticeKind = 'firing' | 'resolved' | 'repeat' | 'escalation' | 'deadman'

export interface Receiver { name: string, email: readonly string[], locale: Locale }
export interface Route { match: Record<string, string>, receiver: string }

/** Notice is one mail to be: its kind and incidents; the group stage adds its receiver and group key. */
export interface Notice {
  kind: NoticeKind
  incidents: Incident[]
  receiver?: Receiver
  /** receiver, kind and (firing) rule: group_interval counts per key */
  key?: string
}

/** Stage is one step of the chain: the notices still due at now, in order (a stage that reads the store is async). */
export interface Stage {
  exec (notices: readonly Notice[], now: number): Notice[] | Promise<Notice[]>
}
