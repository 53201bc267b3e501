/**
 * The configuration schema: the single source of the `Config` type and of its validation.
 * `config/default.yaml` documents every field; this file says what each may hold.
 */
import { Type, type Static } from '@sinclair/typebox'

/** Topic names: what ARCHITECTURE.md allows, safe in SSE `event:` fields, URLs and metric labels. */
export const TOPIC_NAME_PATTERN = '^[a-z0-9][a-z0-9._-]{0,63}$'

/**
 * Names that SSE clients or Ticker itself give a meaning to; no topic may take them.
 * `reset` is Ticker's control event; `message`/`error`/`open` are EventSource's own.
 */
export const RESERVED_TOPIC_NAMES: ReadonlySet<string> = new Set(['reset', 'message', 'error', 'open', 'close', 'heartbeat'])

const PositiveInt = (maximum?: number) => Type.Integer({ minimum: 1, ...(maximum === undefined ? {} : { maximum }) })

export const TopicSchema = Type.Object({
  /** Human-readable name for dashboards and /topics. */
  title: Type.Optional(Type.String({ maxLength: 200 })),
  /** Ring-buffer capacity in events. */
  capacity: Type.Optional(PositiveInt(1_000_000)),
  /** Events older than this are dropped from the ring buffer. */
  maxAgeSeconds: Type.Optional(PositiveInt(365 * 24 * 3600)),
  /** Private topics are streamed, listed and replayed only with the subscriber token. */
  private: Type.Optional(Type.Boolean())
}, { additionalProperties: false })

export const ConfigSchema = Type.Object({
  server: Type.Object({
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    bodyLimitBytes: PositiveInt(64 * 1024 * 1024),
    trustProxy: Type.Boolean(),
    shutdownTimeoutMs: PositiveInt(600_000)
  }, { additionalProperties: false }),
  log: Type.Object({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))
  }, { additionalProperties: false }),
  auth: Type.Object({
    publishToken: Type.String(),
    subscribeToken: Type.String()
  }, { additionalProperties: false }),
  bus: Type.Object({
    backend: Type.Literal('memory'),
    allowUndeclaredTopics: Type.Boolean(),
    maxTopics: PositiveInt(100_000),
    topicDefaults: Type.Object({
      capacity: PositiveInt(1_000_000),
      maxAgeSeconds: PositiveInt(365 * 24 * 3600)
    }, { additionalProperties: false })
  }, { additionalProperties: false }),
  topics: Type.Record(Type.String({ pattern: TOPIC_NAME_PATTERN }), TopicSchema, { additionalProperties: false }),
  sse: Type.Object({
    retryMs: PositiveInt(3_600_000),
    heartbeatMs: PositiveInt(3_600_000),
    maxConnections: PositiveInt(1_000_000),
    maxConnectionsPerIp: PositiveInt(1_000_000),
    maxQueuedBytes: PositiveInt(1024 * 1024 * 1024)
  }, { additionalProperties: false }),
  api: Type.Object({
    historyLimit: PositiveInt(100_000)
  }, { additionalProperties: false }),
  cors: Type.Object({
    origins: Type.Array(Type.String({ minLength: 1 }))
  }, { additionalProperties: false })
}, { additionalProperties: false })

export type Config = Static<typeof ConfigSchema>
export type TopicConfig = Static<typeof TopicSchema>
