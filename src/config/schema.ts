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

/** The topic-name rule in words, for every message that states it. */
export const TOPIC_NAME_RULE = `1-64 of a-z 0-9 . _ - starting with a letter or digit, and not a reserved name (${[...RESERVED_TOPIC_NAMES].join(', ')})`

/** The topic a feed publishes its status to. */
export const feedStatusTopic = (topic: string): string => `${topic}.status`

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

const TopicName = Type.String({ pattern: TOPIC_NAME_PATTERN })
/** A node-cron expression, with an optional leading seconds field; checked with node-cron on load. */
const Schedule = Type.String({ minLength: 1, maxLength: 200 })
const TimeoutMs = PositiveInt(600_000)

/** Settings every feed shares unless it sets its own. */
export const FeedDefaultsSchema = Type.Object({
  schedule: Schedule,
  timeoutMs: TimeoutMs,
  /** Largest feed body accepted, in bytes. */
  maxBytes: PositiveInt(100 * 1024 * 1024),
  maxRedirects: Type.Integer({ minimum: 0, maximum: 20 }),
  /** Items the first poll publishes at most (the newest). */
  firstPollItems: PositiveInt(1000),
  /** Summary length cap, in characters. */
  summaryMaxChars: PositiveInt(100_000),
  /** IDs remembered for de-duplication. */
  seenLimit: PositiveInt(1_000_000),
  /** First delay after a failure; doubles each failure (with jitter) up to backoffMaxMs. */
  backoffBaseMs: PositiveInt(86_400_000),
  backoffMaxMs: PositiveInt(86_400_000),
  userAgent: Type.String({ minLength: 1, maxLength: 300 })
}, { additionalProperties: false })

export const FeedSchema = Type.Composite([
  Type.Object({
    /** Names the feed in logs, metrics and status events. */
    name: Type.String({ pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$' }),
    url: Type.String({ minLength: 1, maxLength: 2000 }),
    topic: TopicName,
    enabled: Type.Optional(Type.Boolean())
  }),
  Type.Partial(FeedDefaultsSchema)
], { additionalProperties: false })

export const ProducersSchema = Type.Object({
  clock: Type.Object({
    enabled: Type.Boolean(),
    schedule: Schedule,
    topic: TopicName,
    timeoutMs: TimeoutMs,
    /** IANA time zones whose local time each tick carries. */
    timeZones: Type.Array(Type.String({ minLength: 1 }), { maxItems: 50 })
  }, { additionalProperties: false }),
  system: Type.Object({
    enabled: Type.Boolean(),
    schedule: Schedule,
    topic: TopicName,
    timeoutMs: TimeoutMs,
    /** Mount points whose disk usage is reported. */
    mounts: Type.Array(Type.String({ minLength: 1 }), { maxItems: 50 })
  }, { additionalProperties: false }),
  feedDefaults: FeedDefaultsSchema,
  feeds: Type.Array(FeedSchema, { maxItems: 1000 })
}, { additionalProperties: false })

export const TILE_KINDS = ['clock', 'system', 'feed', 'generic', 'number', 'gauge', 'chart', 'list', 'text', 'status'] as const
export type TileKind = typeof TILE_KINDS[number]

/** A value's place in a payload: dot-separated keys and array indexes, as in `disks.0.usedPercent`. */
export const FIELD_PATH_PATTERN = '^[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+){0,15}$'
const FieldPath = Type.String({ pattern: FIELD_PATH_PATTERN, maxLength: 200 })

export const LEVELS = ['ok', 'warn', 'critical', 'unknown'] as const
export type Level = typeof LEVELS[number]

export const NumberFormatSchema = Type.Object({
  /** number (the default); bytes (1.5 MB); percent (the value is 0-100); duration (the value is seconds). */
  style: Type.Optional(Type.Union([Type.Literal('number'), Type.Literal('bytes'), Type.Literal('percent'), Type.Literal('duration')])),
  /** Digits after the point; by default up to 2 for numbers, 1 for bytes and none for percent. */
  decimals: Type.Optional(Type.Integer({ minimum: 0, maximum: 6 }))
}, { additionalProperties: false })
export type NumberFormat = Static<typeof NumberFormatSchema>

export const ThresholdsSchema = Type.Object({
  warn: Type.Number(),
  critical: Type.Number(),
  /** above (the default): high values are bad; below: low values are. */
  direction: Type.Optional(Type.Union([Type.Literal('above'), Type.Literal('below')]))
}, { additionalProperties: false })
export type Thresholds = Static<typeof ThresholdsSchema>

export const TileSchema = Type.Object({
  topic: TopicName,
  /** Heading; defaults to the topic's title. */
  title: Type.Optional(Type.String({ maxLength: 200 })),
  /** How to show the topic; inferred from the producer that feeds it when left out. */
  kind: Type.Optional(Type.Union(TILE_KINDS.map((k) => Type.Literal(k)))),
  /** Grid units across and down (1 by default). */
  width: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 })),
  height: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 })),
  /** number, gauge, text, status: the value shown; list: the array of rows (none: the last events, as a log). */
  field: Type.Optional(FieldPath),
  /** chart: the numeric fields drawn, one line each. */
  fields: Type.Optional(Type.Array(FieldPath, { minItems: 1, maxItems: 6 })),
  /** Written after numbers: "%", "€", "req/s". */
  unit: Type.Optional(Type.String({ maxLength: 16 })),
  format: Type.Optional(NumberFormatSchema),
  /** number, gauge: colour by level. */
  thresholds: Type.Optional(ThresholdsSchema),
  /** gauge: the scale (0-100 by default); chart: a fixed y-range (fitted to the data when left out). */
  min: Type.Optional(Type.Number()),
  max: Type.Optional(Type.Number()),
  /** number: compare with the value this many seconds before the newest (default: the previous event). */
  changeOverSeconds: Type.Optional(PositiveInt(86_400)),
  /** chart: samples drawn (ui.chartPoints by default). */
  points: Type.Optional(Type.Integer({ minimum: 2, maximum: 1000 })),
  /** list: in each row, the field that labels it and the field shown as its value. */
  label: Type.Optional(FieldPath),
  value: Type.Optional(FieldPath),
  /** list: most rows shown. */
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  /** text: most lines shown. */
  lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
  /** status: the field's values mapped to a level; others are unknown. */
  states: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 100 }), Type.Union(LEVELS.map((l) => Type.Literal(l))))),
  /** status: what each value is called on screen (the value itself by default). */
  labels: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 100 }), Type.String({ maxLength: 100 })))
}, { additionalProperties: false })

export const DashboardSchema = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 200 }),
  /** Seconds before the page moves on to the next dashboard (wall screens); none: it stays. */
  rotate: Type.Optional(Type.Integer({ minimum: 2, maximum: 86_400 })),
  tiles: Type.Array(TileSchema, { minItems: 1, maxItems: 100 })
}, { additionalProperties: false })

/** Dashboard names, as in /d/:name. */
export const DASHBOARD_NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,63}$'

export const ConfigSchema = Type.Object({
  server: Type.Object({
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    bodyLimitBytes: PositiveInt(64 * 1024 * 1024),
    trustProxy: Type.Boolean(),
    shutdownTimeoutMs: PositiveInt(600_000),
    /** How long a request may take to arrive, headers and body (a stream's response is not timed). */
    requestTimeoutMs: PositiveInt(3_600_000),
    /** Pending connections the kernel may queue (capped by net.core.somaxconn). */
    listenBacklog: PositiveInt(65_535)
  }, { additionalProperties: false }),
  log: Type.Object({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
    /** auto: human-readable on a terminal, JSON otherwise. */
    format: Type.Union(['auto', 'json', 'pretty'].map((l) => Type.Literal(l))),
    /** A line for every request and response. */
    requests: Type.Boolean()
  }, { additionalProperties: false }),
  metrics: Type.Object({
    enabled: Type.Boolean(),
    /** Prefix for the process/runtime default metrics; Ticker's own are always ticker_*. */
    defaultMetricsPrefix: Type.String({ pattern: '^([a-zA-Z_][a-zA-Z0-9_]*)?$' }),
    /** Bearer token /metrics requires; empty: none. */
    token: Type.String(),
    /** Serve /metrics on its own listener (and not on the main one). */
    separate: Type.Object({
      enabled: Type.Boolean(),
      host: Type.String({ minLength: 1 }),
      port: Type.Integer({ minimum: 0, maximum: 65535 })
    }, { additionalProperties: false })
  }, { additionalProperties: false }),
  auth: Type.Object({
    publishToken: Type.String(),
    subscribeToken: Type.String(),
    jwt: Type.Object({
      secret: Type.String(),
      publicKeyFile: Type.String(),
      jwksFile: Type.String(),
      audience: Type.String(),
      issuer: Type.String(),
      cookie: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
      /** Refuse tokens with no `exp` (they would grant forever). */
      requireExp: Type.Boolean(),
      clockToleranceSeconds: Type.Integer({ minimum: 0, maximum: 600 })
    }, { additionalProperties: false })
  }, { additionalProperties: false }),
  bus: Type.Object({
    /** memory: one process; redis: several instances share history through Redis. */
    backend: Type.Union([Type.Literal('memory'), Type.Literal('redis')]),
    redis: Type.Object({
      /** redis://[user:password@]host:port[/db] */
      url: Type.String({ pattern: '^rediss?://' }),
      /** Instances that share history share this prefix; others on the same Redis are apart. */
      keyPrefix: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
      /** A producer's lease; another instance takes a producer over within 2× this after its runner dies. */
      leaseTtlMs: Type.Integer({ minimum: 300, maximum: 600_000 }),
      /**
       * Events kept in the stream every instance reads new events from, each with its payload (on
       * top of each topic's history). An instance that falls further behind ends its streams.
       */
      streamCapacity: Type.Integer({ minimum: 1000, maximum: 10_000_000 })
    }, { additionalProperties: false }),
    allowUndeclaredTopics: Type.Boolean(),
    maxTopics: PositiveInt(100_000),
    topicDefaults: Type.Object({
      capacity: PositiveInt(1_000_000),
      maxAgeSeconds: PositiveInt(365 * 24 * 3600)
    }, { additionalProperties: false })
  }, { additionalProperties: false }),
  topics: Type.Record(Type.String({ pattern: TOPIC_NAME_PATTERN }), TopicSchema, { additionalProperties: false }),
  /**
   * Topic families: a topic whose name matches a pattern (`user.*`) is created by its first
   * publish with these settings, and dropped when idle.
   */
  topicPatterns: Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.Object({
    title: Type.Optional(Type.String({ maxLength: 200 })),
    private: Type.Optional(Type.Boolean()),
    capacity: Type.Optional(PositiveInt(1_000_000)),
    maxAgeSeconds: Type.Optional(PositiveInt(365 * 24 * 3600)),
    /** Dropped, with everything held for it, after this long with no event and no subscriber. */
    idleSeconds: Type.Optional(PositiveInt(365 * 24 * 3600))
  }, { additionalProperties: false })),
  sse: Type.Object({
    retryMs: PositiveInt(3_600_000),
    heartbeatMs: PositiveInt(3_600_000),
    maxConnections: PositiveInt(1_000_000),
    maxConnectionsPerIp: PositiveInt(1_000_000),
    maxQueuedBytes: PositiveInt(1024 * 1024 * 1024),
    flushIntervalMs: Type.Integer({ minimum: 0, maximum: 1000 }),
    /** auto: the tuned writer where it passes its startup self-test on this Node; plain: public API only. */
    writer: Type.Union([Type.Literal('auto'), Type.Literal('plain')])
  }, { additionalProperties: false }),
  api: Type.Object({
    historyLimit: PositiveInt(100_000),
    /** Most bytes of event data one history page carries (at least one event). */
    historyMaxBytes: PositiveInt(256 * 1024 * 1024)
  }, { additionalProperties: false }),
  cors: Type.Object({
    origins: Type.Array(Type.String({ minLength: 1 }))
  }, { additionalProperties: false }),
  producers: ProducersSchema,
  /** The first is served at `/`; every one at `/d/:name`. */
  dashboards: Type.Record(Type.String({ pattern: DASHBOARD_NAME_PATTERN }), DashboardSchema, { additionalProperties: false, minProperties: 1 }),
  ui: Type.Object({
    /** Feed items a feed tile shows. */
    feedItems: PositiveInt(100),
    /** Samples a system tile's charts keep. */
    chartPoints: PositiveInt(1000)
  }, { additionalProperties: false }),
  embed: Type.Object({
    /** Origins allowed to frame /embed/:topic (CSP frame-ancestors), or "*". */
    frameAncestors: Type.Array(Type.String({ minLength: 1 }))
  }, { additionalProperties: false })
}, { additionalProperties: false })

export type Config = Static<typeof ConfigSchema>
export type TopicConfig = Static<typeof TopicSchema>
export type FeedConfig = Static<typeof FeedSchema>
export type FeedDefaults = Static<typeof FeedDefaultsSchema>
export type TileConfig = Static<typeof TileSchema>
export type DashboardConfig = Static<typeof DashboardSchema>
