// The outbox's attachments column: a database made before it existed opens, keeps its
// mails (with no attachments) and takes new ones with files.

import t from 'tap'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { SqliteAlertStore } from '../../collector/alerting/store-sqlite.js'
import { tmpDir } from '../helpers/tmp.js'

t.test('an older alerting.db is migrated in place', async t => {
  const dir = await tmpDir(t)
  const old = new Database(join(dir, 'alerting.db'))
  // The outbox as collectors before the reports created it.
  old.exec(`CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, incident_ids TEXT NOT NULL, receiver TEXT NOT NULL,
    recipients TEXT NOT NULL, subject TEXT NOT NULL, text TEXT NOT NULL, html TEXT NOT NULL,
    created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL,
    sent_at INTEGER, last_error TEXT)`)
  old.prepare("INSERT INTO outbox (kind, incident_ids, receiver, recipients, subject, text, html, created_at, next_attempt_at) VALUES ('firing', '[1]', 'oncall', '[\"o@example.jp\"]', 's', 't', 'h', 1, 1)").run()
  old.close()
  for (let i = 0; i < 2; i++) { // twice: the migration is idempotent
    const store = new SqliteAlertStore(dir)
    t.teardown(() => store.close())
    if (i === 0) await store.enqueue({ kind: 'report', incident_ids: [], receiver: 'managers', recipients: ['m@example.jp'], subject: 'r', text: 't', html: 'h', attachments: ['/srv/reports/daily/2026-07-17/report.pdf'], created_at: 2 })
    const due = await store.dueMail(10)
    t.same(due.map(m => [m.kind, m.subject, m.attachments]), [['firing', 's', []], ['report', 'r', ['/srv/reports/daily/2026-07-17/report.pdf']]])
    if (i === 0) {
      t.equal(await store.reportDone('daily'), undefined)
      await store.setReportDone('daily', '2026-07-17', 3)
    } else t.equal(await store.reportDone('daily'), '2026-07-17', 'the last completed period survives a reopen')
  }
})
