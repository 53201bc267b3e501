/** The bus's public face: other parts import from here, never from a backend. */
import type { Config } from '../config/schema.ts'
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { soloCoordinator } from './lease.ts'
import { MemoryBus } from './memory-bus.ts'
import { RedisBus } from './redis-bus.ts'
import { topicRulesFrom } from './topics.ts'
import type { Bus, BusLog, RunCoordinator, TickerEvent } from './types.ts'

export interface CreateBusOptions {
  onListenerError?: (err: unknown, event: TickerEvent) => void
  log?: BusLog
}

/** The backend that `config.bus.backend` names; a Redis one reaches Redis in the background (see ready()). */
export function createBus (config: Pick<Config, 'bus' | 'topics' | 'topicPatterns'>, options: CreateBusOptions = {}): Bus {
  switch (config.bus.backend) {
    case 'memory':
      return new MemoryBus({ ...topicRulesFrom(config), ...options })
    case 'redis':
      return RedisBus.start({ ...topicRulesFrom(config), ...options, ...config.bus.redis })
  }
}

/** This process's name among instances: host, pid and a few random bits (a restart is another instance). */
export const instanceName = (): string => `${hostname()}/${process.pid}/${randomBytes(2).toString('hex')}`

/**
 * Who runs the scheduled producers: this instance alone (memory), or one instance per producer
 * across the fleet, by leases in Redis (redis).
 */
export function createCoordinator (bus: Bus, config: Pick<Config, 'bus'>, producers: readonly string[], instance = instanceName()): RunCoordinator {
  return bus instanceof RedisBus
    ? bus.coordinator({ instance, producers, ttlMs: config.bus.redis.leaseTtlMs })
    : soloCoordinator(instance)
}

export { familyPatternOf, isValidTopicName } from './topics.ts'
export { parseId } from './event-id.ts'
export type { Bus, BusListener, BusLog, HistoryPage, ReplayPlan, ResetReason, RunCoordinator, RunLease, TickerEvent, TopicInfo } from './types.ts'
