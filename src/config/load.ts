/**
 * Loading the configuration: `config/default.yaml`, then the file named by `--config` or
 * TICKER_CONFIG merged over it, then environment overrides; validated once into a frozen object.
 *
 * Every problem is reported, one line each, naming the field: see {@link ConfigError}.
 */
import { readFileSync } from 'node:fs'
import { createPublicKey } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import { validateDetailed } from 'node-cron'
import { ConfigSchema, RESERVED_TOPIC_NAMES, TOPIC_NAME_RULE, feedStatusTopic, type Config } from './schema.ts'
import { inferKind, tileProblems } from '../dashboard/catalogue.ts'
import { isValidTopicPattern, topicPattern } from '../bus/topics.ts'

/** The shipped defaults; every setting is there. */
export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../config/default.yaml', import.meta.url))

/** A configuration that cannot be used; `problems` has one line per bad field. */
export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor (problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

type Plain = Record<string, unknown>

const isPlainObject = (value: unknown): value is Plain =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Deep merge: objects merge key by key, anything else (lists included) replaces. Keys are data
 * even when named like Object's properties: a `__proto__` key (YAML allows it) stays a key, for
 * validation to reject, instead of becoming the merged object's prototype.
 */
export function mergeConfig<T> (base: T, override: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(override)) return (override === undefined ? base : override) as T
  const out: Plain = { ...base }
  for (const [key, value] of Object.entries(override)) {
    const merged = Object.hasOwn(out, key) ? mergeConfig(out[key], value) : value
    Object.defineProperty(out, key, { value: merged, enumerable: true, writable: true, configurable: true })
  }
  return out as T
}

/**
 * A copy of `record` without a prototype: topics and dashboards are looked up by names from URLs,
 * and `dashboards['constructor']` must be undefined, not Object's constructor.
 */
function withoutPrototype<V> (record: Record<string, V>): Record<string, V> {
  return Object.assign(Object.create(null) as Record<string, V>, record)
}

function readYamlFile (path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError([`${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`])
  }
  try {
    const doc: unknown = parseYaml(text) ?? {}
    if (!isPlainObject(doc)) throw new ConfigError([`${path}: expected a mapping of settings at the top level`])
    return doc
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError([yamlProblem(path, text, err as Error)])
  }
}

/**
 * A YAML syntax error as one sentence naming its line: "config.yaml, line 3: not valid YAML: all
 * mapping items must start at the same column." A quote left open is named where it opens, not
 * at the end of the file where the parser gave up.
 */
function yamlProblem (path: string, text: string, err: Error & { code?: string, linePos?: Array<{ line: number, col: number }> }): string {
  let line = err.linePos?.[0]?.line
  let reason = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '')
  const quote = /Missing closing "quote/.test(reason) ? '"' : /Missing closing 'quote/.test(reason) ? "'" : undefined
  if (quote !== undefined) {
    const opened = text.split('\n').findIndex((l) => (l.split(quote).length - 1 - (l.split(`\\${quote}`).length - 1)) % 2 === 1)
    if (opened !== -1) line = opened + 1
    reason = `a ${quote === '"' ? 'double' : 'single'}-quoted string opens here and is never closed`
  }
  const where = line === undefined ? path : `${path}, line ${line}`
  return `${where}: not valid YAML: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}.`
}

/** A number from the environment when it looks like one; otherwise the raw string, which validation then names. */
const envNumber = (raw: string): number | string => (/^-?\d+$/.test(raw) ? Number(raw) : raw)
const envBoolean = (raw: string): boolean | string => (raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw)

const commaList = (raw: string): string[] => raw.split(',').map((o) => o.trim()).filter(Boolean)

/** The environment variables Ticker reads, and where each lands. */
const ENV_OVERRIDES: ReadonlyArray<[name: string, apply: (raw: string) => Plain]> = [
  ['HOST', (raw) => ({ server: { host: raw } })],
  ['PORT', (raw) => ({ server: { port: envNumber(raw) } })],
  ['TICKER_TRUST_PROXY', (raw) => ({ server: { trustProxy: envBoolean(raw) } })],
  ['TICKER_LOG_LEVEL', (raw) => ({ log: { level: raw } })],
  ['TICKER_LOG_FORMAT', (raw) => ({ log: { format: raw } })],
  ['TICKER_METRICS_TOKEN', (raw) => ({ metrics: { token: raw } })],
  ['TICKER_PUBLISH_TOKEN', (raw) => ({ auth: { publishToken: raw } })],
  ['TICKER_SUBSCRIBE_TOKEN', (raw) => ({ auth: { subscribeToken: raw } })],
  ['TICKER_JWT_SECRET', (raw) => ({ auth: { jwt: { secret: raw } } })],
  ['TICKER_CORS_ORIGINS', (raw) => ({ cors: { origins: commaList(raw) } })],
  ['TICKER_FRAME_ANCESTORS', (raw) => ({ embed: { frameAncestors: commaList(raw) } })],
  ['TICKER_REDIS_URL', (raw) => ({ bus: { redis: { url: raw } } })]
]

const fieldName = (path: string): string => path.replace(/^\//, '').replaceAll('/', '.') || '(top level)'

function describeExpected (schema: TSchema, message: string): string {
  const options = (schema.anyOf as TSchema[] | undefined)?.map((s) => s.const as unknown)
  if (options?.every((o) => typeof o === 'string')) return `expected one of ${options.join(', ')}`
  if (schema.const !== undefined) return `expected ${JSON.stringify(schema.const)}`
  if (typeof schema.pattern === 'string') return `expected a string matching ${schema.pattern}`
  return message.charAt(0).toLowerCase() + message.slice(1)
}

function schemaProblems (candidate: unknown): string[] {
  const byField = new Map<string, string>()
  for (const error of Value.Errors(ConfigSchema, candidate)) {
    const field = fieldName(error.path)
    if (byField.has(field)) continue
    const got = error.value === undefined ? 'nothing' : JSON.stringify(error.value)
    const unexpected = error.message === 'Unexpected property'
    const problem = unexpected && /^\/topics\/[^/]+$/.test(error.path)
      ? `${field}: not a valid topic name; expected ${TOPIC_NAME_RULE}`
      : unexpected
        ? `${field}: unknown setting (check its spelling against config/default.yaml)`
        : `${field}: ${describeExpected(error.schema, error.message)}, got ${got}`
    byField.set(field, problem)
  }
  return [...byField.values()]
}

/** Checks that span several fields, which the schema cannot express. */
function crossFieldProblems (config: Config): string[] {
  const problems: string[] = []
  const names = Object.keys(config.topics)
  for (const name of names) {
    if (RESERVED_TOPIC_NAMES.has(name)) problems.push(`topics.${name}: "${name}" is reserved for control events; pick another name`)
  }
  for (const pattern of Object.keys(config.topicPatterns)) {
    if (!isValidTopicPattern(pattern) || !pattern.includes('*')) {
      problems.push(`topicPatterns.${pattern}: not a topic pattern; expected dot-separated parts of a-z 0-9 _ -, with * for one part (e.g. user.*.inbox)`)
    }
  }
  problems.push(...familyPrivacyProblems(config))
  const privateTopics = [...names.filter((n) => config.topics[n]?.private === true),
    ...Object.keys(config.topicPatterns).filter((p) => config.topicPatterns[p]?.private === true)]
  const { jwt } = config.auth
  const verifiers = [jwt.secret, jwt.publicKeyFile, jwt.jwksFile].filter((v) => v !== '').length
  if (privateTopics.length > 0 && config.auth.subscribeToken === '' && verifiers === 0) {
    problems.push(`auth.subscribeToken: required because topics ${privateTopics.join(', ')} are private (or set TICKER_SUBSCRIBE_TOKEN, or auth.jwt)`)
  }
  if (verifiers > 1) problems.push('auth.jwt: set one of secret, publicKeyFile and jwksFile, not several')
  problems.push(...jwtKeyProblems(jwt))
  if (jwt.secret !== '' && jwt.secret.length < 32) problems.push('auth.jwt.secret: too short for HS256; use at least 32 characters (e.g. `openssl rand -base64 32`)')
  if (names.length > config.bus.maxTopics) {
    problems.push(`bus.maxTopics: ${config.bus.maxTopics} is fewer than the ${names.length} declared topics`)
  }
  problems.push(...producerProblems(config))
  problems.push(...dashboardProblems(config))
  for (const origin of config.embed.frameAncestors) {
    if (origin !== '*' && !/^https?:\/\/[^/\s;,']+$/.test(origin)) {
      problems.push(`embed.frameAncestors: "${origin}" is not an origin; expected "*" or scheme://host[:port]`)
    }
  }
  for (const origin of config.cors.origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push(`cors.origins: "${origin}" is not an origin; expected "*" or scheme://host[:port] with no path`)
    }
  }
  return problems
}

/**
 * Privacy that config would weaken without a word: the first matching pattern decides a topic's
 * settings, and a declared topic is never a family's; so patterns that can match one topic, and
 * a declared topic a pattern matches, must agree on privacy.
 */
function familyPrivacyProblems (config: Config): string[] {
  const problems: string[] = []
  const patterns = Object.keys(config.topicPatterns).filter((p) => isValidTopicPattern(p) && p.includes('*'))
  const privacy = (p: string): boolean => config.topicPatterns[p]?.private === true
  const overlap = (a: string, b: string): boolean => {
    const [x, y] = [a.split('.'), b.split('.')]
    return x.length === y.length && x.every((part, i) => part === '*' || y[i] === '*' || part === y[i])
  }
  patterns.forEach((a, i) => {
    for (const b of patterns.slice(i + 1)) {
      if (overlap(a, b) && privacy(a) !== privacy(b)) {
        problems.push(`topicPatterns.${b}: some topics match both "${a}" and "${b}", and the first match ("${a}", ${privacy(a) ? 'private' : 'public'}) decides; make both private or neither`)
      }
    }
  })
  for (const [name, topic] of Object.entries(config.topics)) {
    const family = patterns.find((p) => privacy(p) && topicPattern(p)(name))
    if (family !== undefined && topic.private !== true) {
      problems.push(`topics.${name}: matches the private family "${family}" but is declared public; declare it private: true, or name it otherwise`)
    }
  }
  return problems
}

/** A key file that cannot be read or is not a key is a config problem (exit 2), found at load. */
function jwtKeyProblems (jwt: Config['auth']['jwt']): string[] {
  const read = (field: string, path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8')
    } catch (err) {
      problems.push(`${field}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
      return undefined
    }
  }
  const problems: string[] = []
  if (jwt.publicKeyFile !== '') {
    const text = read('auth.jwt.publicKeyFile', jwt.publicKeyFile)
    if (text !== undefined) {
      try {
        const key = createPublicKey(text)
        const ok = key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'ed25519' ||
          (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
        if (!ok) problems.push(`auth.jwt.publicKeyFile: ${jwt.publicKeyFile} is not an RSA, P-256 or Ed25519 public key`)
      } catch {
        problems.push(`auth.jwt.publicKeyFile: ${jwt.publicKeyFile} is not a PEM public key`)
      }
    }
  }
  if (jwt.jwksFile !== '') {
    const text = read('auth.jwt.jwksFile', jwt.jwksFile)
    if (text !== undefined) {
      let keys: unknown
      try {
        keys = (JSON.parse(text) as { keys?: unknown }).keys
      } catch {
        keys = undefined
      }
      if (!Array.isArray(keys) || keys.length === 0) problems.push(`auth.jwt.jwksFile: ${jwt.jwksFile} is not a JSON Web Key Set ({"keys": [...]})`)
    }
  }
  return problems
}

function scheduleProblem (field: string, schedule: string): string | undefined {
  const { valid, errors } = validateDetailed(schedule)
  if (valid) return undefined
  const why = errors.map((e) => `${e.field}: ${e.message}`).join('; ')
  return `${field}: "${schedule}" is not a cron expression (${why}); e.g. "*/5 * * * *" or, with seconds, "*/2 * * * * *"`
}

function isValidTimeZone (zone: string): boolean {
  try {
    Intl.DateTimeFormat('en', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

function producerProblems (config: Config): string[] {
  const problems: string[] = []
  const { clock, system, feeds, feedDefaults } = config.producers
  const needTopic = (field: string, topic: string): void => {
    if (config.topics[topic] === undefined && !config.bus.allowUndeclaredTopics) {
      problems.push(`${field}: topic "${topic}" is not declared; add it under \`topics\``)
    }
  }
  const check = (problem: string | undefined): void => { if (problem !== undefined) problems.push(problem) }

  if (clock.enabled) {
    check(scheduleProblem('producers.clock.schedule', clock.schedule))
    needTopic('producers.clock.topic', clock.topic)
    for (const zone of clock.timeZones) {
      if (!isValidTimeZone(zone)) problems.push(`producers.clock.timeZones: "${zone}" is not an IANA time zone (such as Europe/Paris)`)
    }
  }
  if (system.enabled) {
    check(scheduleProblem('producers.system.schedule', system.schedule))
    needTopic('producers.system.topic', system.topic)
  }
  check(scheduleProblem('producers.feedDefaults.schedule', feedDefaults.schedule))
  const names = new Set<string>()
  feeds.forEach((feed, i) => {
    const field = `producers.feeds.${i}`
    if (names.has(feed.name)) problems.push(`${field}.name: "${feed.name}" is used by another feed; names must be unique`)
    names.add(feed.name)
    if (feed.enabled === false) return
    if (feed.schedule !== undefined) check(scheduleProblem(`${field}.schedule`, feed.schedule))
    if (!/^https?:\/\/[^\s]+$/.test(feed.url) || !URL.canParse(feed.url)) {
      problems.push(`${field}.url: "${feed.url}" is not an http(s) URL`)
    }
    needTopic(`${field}.topic`, feed.topic)
    needTopic(`${field}.topic`, feedStatusTopic(feed.topic))
    check(mixedPrivacy(config, `${field}.topic`, feed.topic))
    const base = feed.backoffBaseMs ?? feedDefaults.backoffBaseMs
    const max = feed.backoffMaxMs ?? feedDefaults.backoffMaxMs
    if (base > max) problems.push(`${field}: backoffBaseMs (${base}) is larger than backoffMaxMs (${max})`)
  })
  return problems
}

/**
 * A feed tile shows its topic and `<topic>.status` together, so both must be private or neither:
 * otherwise one topic's data would be shown to whoever may read the other.
 */
function mixedPrivacy (config: Config, field: string, topic: string): string | undefined {
  const status = feedStatusTopic(topic)
  const [a, b] = [config.topics[topic], config.topics[status]]
  if (a === undefined || b === undefined || (a.private === true) === (b.private === true)) return undefined
  const [privateOne, publicOne] = a.private === true ? [topic, status] : [status, topic]
  return `${field}: "${privateOne}" is private but "${publicOne}" is not; a feed tile shows both, so make both private or neither`
}

function dashboardProblems (config: Config): string[] {
  const problems: string[] = []
  for (const [name, dashboard] of Object.entries(config.dashboards)) {
    dashboard.tiles.forEach((tile, i) => {
      problems.push(...tileProblems(`dashboards.${name}.tiles.${i}`, tile, tile.kind ?? inferKind(tile.topic, config)))
      const field = `dashboards.${name}.tiles.${i}.topic`
      if (config.topics[tile.topic] === undefined) problems.push(`${field}: topic "${tile.topic}" is not declared; add it under \`topics\``)
      else if (config.topics[tile.topic]?.private === true) problems.push(`${field}: "${tile.topic}" is private; dashboards are public, so show only public topics`)
      else if (tile.kind === 'feed' || config.producers.feeds.some((f) => f.enabled !== false && f.topic === tile.topic)) {
        const problem = mixedPrivacy(config, field, tile.topic)
        if (problem !== undefined) problems.push(problem)
      }
    })
  }
  return problems
}

/** Validates a merged candidate into a deep-frozen Config, or throws ConfigError listing every problem. */
export function validateConfig (candidate: unknown): Readonly<Config> {
  const problems = schemaProblems(candidate)
  if (problems.length > 0) throw new ConfigError(problems)
  const copy = structuredClone(candidate as Config)
  const config: Config = { ...copy, topics: withoutPrototype(copy.topics), topicPatterns: withoutPrototype(copy.topicPatterns), dashboards: withoutPrototype(copy.dashboards) }
  const more = crossFieldProblems(config)
  if (more.length > 0) throw new ConfigError(more)
  return deepFreeze(config)
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

/** The shipped defaults with `overrides` merged over them; for tests and embedding. */
export function buildConfig (overrides: unknown = {}): Readonly<Config> {
  return validateConfig(mergeConfig(readYamlFile(DEFAULT_CONFIG_PATH), overrides))
}

export interface LoadOptions {
  argv: readonly string[]
  env: Readonly<Record<string, string | undefined>>
}

/** The config file named by `--config FILE`, `--config=FILE` or TICKER_CONFIG, if any. */
export function configPathFrom ({ argv, env }: LoadOptions): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (arg === '--config') {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) throw new ConfigError(['--config: expected a file path after it'])
      return next
    }
    if (arg.startsWith('--config=')) return arg.slice('--config='.length)
  }
  return env.TICKER_CONFIG === '' ? undefined : env.TICKER_CONFIG
}

/** Loads defaults, the optional config file and environment overrides, and validates the result. */
export function loadConfig (options: LoadOptions): Readonly<Config> {
  let merged: unknown = readYamlFile(DEFAULT_CONFIG_PATH)
  const path = configPathFrom(options)
  if (path !== undefined) merged = mergeConfig(merged, readYamlFile(path))
  for (const [name, apply] of ENV_OVERRIDES) {
    const raw = options.env[name]
    if (raw !== undefined && raw !== '') merged = mergeConfig(merged, apply(raw))
  }
  return validateConfig(merged)
}
