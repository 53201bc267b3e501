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

/**
 * Topic patterns (grants in signed tokens, topic families): dot-separated parts, where `*`
 * stands for exactly one part. `user.*` matches `user.42`, not `user` nor `user.42.inbox`;
 * `user.42.*` never matches `user.420.x`: a pattern cannot reach outside its prefix.
 */
const PATTERN_PART = /^(\*|[a-z0-9_-][a-z0-9_-]*)$/

export function isValidTopicPattern (pattern: string): boolean {
  if (pattern.length === 0 || pattern.length > 64) return false
  return pattern.split('.').every((part) => PATTERN_PART.test(part))
}

/** A matcher for `pattern` (which must be valid). */
export function topicPattern (pattern: string): (topic: string) => boolean {
  const parts = pattern.split('.')
  if (!parts.includes('*')) return (topic) => topic === pattern
  return (topic) => {
    const names = topic.split('.')
    return names.length === parts.length && parts.every((part, i) => part === '*' ? names[i] !== '' : part === names[i])
  }
}

/** A matcher for any of `patterns`. */
export function anyTopicPattern (patterns: readonly string[]): (topic: string) => boolean {
  const matchers = patterns.map(topicPattern)
  return (topic) => matchers.some((match) => match(topic))
}
