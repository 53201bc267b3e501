/** The producers that the configuration enables. */
import { feedStatusTopic, type Config } from '../config/schema.ts'
import { createClockProducer } from './clock.ts'
import { createFeedProducer } from './feed.ts'
import { createSystemProducer } from './system.ts'
import type { Producer } from './types.ts'

export function createProducers (config: Pick<Config, 'producers'>): Producer[] {
  const { clock, system, feeds, feedDefaults } = config.producers
  const producers: Producer[] = []
  if (clock.enabled) producers.push(createClockProducer(clock))
  if (system.enabled) producers.push(createSystemProducer(system))
  for (const { enabled, ...feed } of feeds) {
    if (enabled === false) continue
    producers.push(createFeedProducer({ ...feedDefaults, ...feed, statusTopic: feedStatusTopic(feed.topic) }))
  }
  return producers
}

export { Scheduler } from './scheduler.ts'
export type { Producer, ProducerContext, ProducerState, RunOutcome, RunReport } from './types.ts'
