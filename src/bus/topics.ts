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

/** A family of topics: created by a first publish to a name that matches, dropped when idle. */
export interface TopicFamily {
  readonly pattern: string
  readonly matches: (topic: string) => boolean
  readonly bounds: RingBounds
  /** Dropped after this long with no event (and no subscriber); undefined: never. */
  readonly idleMs: number | undefined
}

/** What a backend needs to know of topics, resolved from config. */
export interface TopicRules {
  readonly declared: Readonly<Record<string, RingBounds>>
  readonly allowUndeclared: boolean
  readonly defaults: RingBounds
  readonly maxTopics: number
  /** Topic families, first match wins. */
  readonly families?: readonly TopicFamily[]
}

/**
 * The pattern of the family `topic` belongs to in `config.topicPatterns` (first match), if it
 * is not a declared topic: for what config says of it (privacy, title) and its metrics label.
 */
export function familyPatternOf (config: Pick<Config, 'topics'> & Partial<Pick<Config, 'topicPatterns'>>, topic: string): string | undefined {
  if (config.topics[topic] !== undefined || config.topicPatterns === undefined) return undefined
  let matchers = compiled.get(config.topicPatterns)
  if (matchers === undefined) {
    matchers = Object.keys(config.topicPatterns).map((pattern) => [pattern, topicPattern(pattern)])
    compiled.set(config.topicPatterns, matchers)
  }
  return matchers.find(([, matches]) => matches(topic))?.[0]
}
const compiled = new WeakMap<object, Array<[string, (topic: string) => boolean]>>()

/** The family `topic` belongs to (a declared topic belongs to none). */
export function familyOf (rules: TopicRules, topic: string): TopicFamily | undefined {
  if (rules.declared[topic] !== undefined) return undefined
  return rules.families?.find((family) => family.matches(topic))
}

/**
 * The bounds a topic gets and whether a publish may create it: declared, else its family's,
 * else the defaults when undeclared topics are allowed; undefined when it may not exist.
 */
export function boundsOf (rules: TopicRules, topic: string): RingBounds | undefined {
  return rules.declared[topic] ?? familyOf(rules, topic)?.bounds ?? (rules.allowUndeclared ? rules.defaults : undefined)
}

export function topicRulesFrom (config: Pick<Config, 'bus' | 'topics'> & Partial<Pick<Config, 'topicPatterns'>>): TopicRules {
  const { topicDefaults } = config.bus
  const declared: Record<string, RingBounds> = {}
  for (const [name, topic] of Object.entries(config.topics)) {
    declared[name] = {
      capacity: topic.capacity ?? topicDefaults.capacity,
      maxAgeSeconds: topic.maxAgeSeconds ?? topicDefaults.maxAgeSeconds
    }
  }
  const families = Object.entries(config.topicPatterns ?? {}).map(([pattern, family]) => ({
    pattern,
    matches: topicPattern(pattern),
    bounds: { capacity: family.capacity ?? topicDefaults.capacity, maxAgeSeconds: family.maxAgeSeconds ?? topicDefaults.maxAgeSeconds },
    idleMs: family.idleSeconds === undefined ? undefined : family.idleSeconds * 1000
  }))
  return {
    declared,
    allowUndeclared: config.bus.allowUndeclaredTopics,
    defaults: topicDefaults,
    maxTopics: config.bus.maxTopics,
    families
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

/**
 * A matcher for any of `patterns` (which must be valid): one regular expression, so a grant of
 * a hundred patterns costs one test per topic, not a hundred. A part is a-z 0-9 _ - (nothing to
 * escape); `*` is one non-empty part.
 */
export function anyTopicPattern (patterns: readonly string[]): (topic: string) => boolean {
  if (patterns.length === 0) return () => false
  const alternatives = patterns.map((pattern) => pattern.split('.').map((part) => (part === '*' ? '[^.]+' : part)).join('\\.'))
  const regex = new RegExp(`^(?:${alternatives.join('|')})$`)
  return (topic) => regex.test(topic)
}
