import type { Bus } from '../bus/index.ts'
import type { Dashboard } from '../dashboard/index.ts'
import type { Config } from '../config/schema.ts'
import type { Scheduler } from '../producers/index.ts'
import type { SseHub } from '../sse/hub.ts'
import type { Grants } from './grants.ts'
import type { TopicAccess } from './topic-access.ts'

/** What every route plugin is given; routes reach other parts only through these. */
export interface RouteDeps {
  readonly config: Readonly<Config>
  readonly bus: Bus
  readonly hub: SseHub
  readonly scheduler: Scheduler
  readonly access: TopicAccess
  readonly grants: Grants
  readonly dashboard: Dashboard
}
