/** The bus's public face: other parts import from here, never from a backend. */
import type { Config } from '../config/schema.ts'
import { MemoryBus } from './memory-bus.ts'
import { topicRulesFrom } from './topics.ts'
import type { Bus, TickerEvent } from './types.ts'

export interface CreateBusOptions {
  onListenerError?: (err: unknown, event: TickerEvent) => void
}

/** The backend that `config.bus.backend` names. */
export function createBus (config: Pick<Config, 'bus' | 'topics'>, options: CreateBusOptions = {}): Bus {
  switch (config.bus.backend) {
    case 'memory':
      return new MemoryBus({ ...topicRulesFrom(config), ...options })
  }
}

export { isValidTopicName } from './topics.ts'
export { parseId } from './event-id.ts'
export type { Bus, BusListener, HistoryPage, ReplayPlan, ResetReason, TickerEvent, TopicInfo } from './types.ts'
