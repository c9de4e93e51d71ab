// The `status:` section of collector.yaml: the public status page (/status, /status.json) that
// shows users the published notices (障害発生告知) and nothing else; off by default.

import { Type, type StaticDecode } from '@sinclair/typebox'
import { DurationMs, Strict } from '../../common/config.js'

export const StatusSchema = Type.Object({
  enabled: Type.Boolean({ default: false, description: 'true or false' }),
  title: Type.String({ default: 'システム稼働状況 / System status', minLength: 1, maxLength: 200, description: 'the page title' }),
  // Notices of resolved 障害 stay on the page this long after they were published; open ones always show.
  keep: DurationMs({ default: '3d', min: 60_000 })
}, { ...Strict, default: {} })

export type StatusConfig = StaticDecode<typeof StatusSchema>
