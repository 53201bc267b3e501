/**
 * Loading the configuration: `config/default.yaml`, then the file named by `--config` or
 * TICKER_CONFIG merged over it, then environment overrides; validated once into a frozen object.
 *
 * Every problem is reported, one line each, naming the field: see {@link ConfigError}.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import { ConfigSchema, TOPIC_NAME_RULE, type Config } from './schema.ts'
import { crossFieldProblems } from './checks.ts'

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
