/** Topic names and the rules for which topics exist; shared by every backend. */
import { RESERVED_TOPIC_NAMES, TOPIC_NAME_PATTERN, type Config } from '../config/schema.ts'

const TOPIC_NAME = new RegExp(TOPIC_NAME_PATTERN)

/** A name a topic may take: the pattern, and not a reserved control-event name. */
export function isValidTopicName (name: string): boolean {
  return TOPIC_NAME.test(name) && !RESERVED_TOPIC_NAMES.has(name)
}

export interface RingBounds {
  readonly capacity: number
  readonly maxAgeSeconds: number
}

/** What a backend needs to know of topics, resolved from config. */
export interface TopicRules {
  readonly declared: Readonly<Record<string, RingBounds>>
  readonly allowUndeclared: boolean
  readonly defaults: RingBounds
  readonly maxTopics: number
}

export function topicRulesFrom (config: Pick<Config, 'bus' | 'topics'>): TopicRules {
  const { topicDefaults } = config.bus
  const declared: Record<string, RingBounds> = {}
  for (const [name, topic] of Object.entries(config.topics)) {
    declared[name] = {
      capacity: topic.capacity ?? topicDefaults.capacity,
      maxAgeSeconds: topic.maxAgeSeconds ?? topicDefaults.maxAgeSeconds
    }
  }
  return {
    declared,
    allowUndeclared: config.bus.allowUndeclaredTopics,
    defaults: topicDefaults,
    maxTopics: config.bus.maxTopics
  }
}
