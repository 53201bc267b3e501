/**
 * The query strings routes accept, as TypeBox schemas: Fastify validates them (a 400 names the
 * field) and the types follow from them. Fastify's validator makes a repeated or single
 * parameter an array where the schema says array.
 */
import { Type, type Static } from '@sinclair/typebox'

/** Most topics one stream may follow (for an html stream, counting the topics its tiles show). */
export const MAX_TOPICS_PER_STREAM = 256

/** A topic name as it may appear in a URL; longer is no topic. */
const TopicParam = Type.String({ maxLength: 64 })

export const StreamQuerySchema = Type.Object({
  /** Repeatable: `topic=a&topic=b`. */
  topic: Type.Optional(Type.Array(TopicParam, { maxItems: MAX_TOPICS_PER_STREAM })),
  /** Comma-separated lists: `topics=a,b`. */
  topics: Type.Optional(Type.Array(Type.String({ maxLength: MAX_TOPICS_PER_STREAM * 65 }), { maxItems: MAX_TOPICS_PER_STREAM })),
  /** The resume point when no Last-Event-ID header is sent; the first counts. Anything unusable means a reset. */
  lastEventId: Type.Optional(Type.Array(Type.String())),
  /** A stream format (json, html); once. */
  format: Type.Optional(Type.Array(Type.String())),
  /** A dashboard's stream (its tiles as HTML), instead of topics and format; once. */
  dashboard: Type.Optional(Type.Array(Type.String({ maxLength: 64 }))),
  /** With dashboard=: the layout the page was rendered with; another one gets a `reload` event. */
  layout: Type.Optional(Type.Array(Type.String({ maxLength: 64 }))),
  access_token: Type.Optional(Type.String())
})
export type StreamQuery = Static<typeof StreamQuerySchema>

/** `limit` is bounded by config (api.historyLimit). */
export const historyQuerySchema = (historyLimit: number) => Type.Object({
  /** Events after this ID; unusable means `reset: true` and the newest events. */
  after: Type.Optional(Type.String({ maxLength: 128 })),
  limit: Type.Integer({ minimum: 1, maximum: historyLimit, default: Math.min(100, historyLimit) }),
  access_token: Type.Optional(Type.String())
})
export type HistoryQuery = Static<ReturnType<typeof historyQuerySchema>>

/** A dashboard page: `kiosk=1` (no chrome, large type), `rotate=30` (the next dashboard after 30 s; 0: never). */
export const PageQuerySchema = Type.Object({
  kiosk: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('true'), Type.Literal('0'), Type.Literal('false')])),
  rotate: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 }))
})
export type PageQuery = Static<typeof PageQuerySchema>
