/** The bus's public face: other parts import from here, never from a backend. */
import type { Config } from '../config/schema.ts'
import { MemoryBus } from './memory-bus.ts'
import { RedisBus } from './redis-bus.ts'
import { topicRulesFrom } from './topics.ts'
import type { Bus, BusLog, TickerEvent } from './types.ts'

export interface CreateBusOptions {
  onListenerError?: (err: unknown, event: TickerEvent) => void
  log?: BusLog
}

/** The backend that `config.bus.backend` names; a Redis one reaches Redis in the background (see ready()). */
export function createBus (config: Pick<Config, 'bus' | 'topics'>, options: CreateBusOptions = {}): Bus {
  switch (config.bus.backend) {
    case 'memory':
      return new MemoryBus({ ...topicRulesFrom(config), ...options })
    case 'redis':
      return RedisBus.start({ ...topicRulesFrom(config), ...options, ...config.bus.redis })
  }
}

export { isValidTopicName } from './topics.ts'
export { parseId } from './event-id.ts'
export type { Bus, BusListener, BusLog, HistoryPage, ReplayPlan, ResetReason, TickerEvent, TopicInfo } from './types.ts'
