/**
 * The JSON API: list topics, read a topic's history, publish an event.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TickerEvent } from '../../bus/index.ts'
import { PublishDisabledError, PublishForbiddenError, PublishTokenMissingError, PublishTokenWrongError } from '../../errors.ts'
import { bearerToken, tokensEqual } from '../auth.ts'
import { historyQuerySchema, type HistoryQuery } from '../schemas.ts'
import type { RouteDeps } from '../types.ts'

const eventJson = (event: TickerEvent): { id: string, time: number, data: unknown } =>
  ({ id: event.id, time: event.time, data: event.data })

/** What one event adds to a page besides its data: id, time and punctuation. */
const EVENT_OVERHEAD_BYTES = 64

/**
 * As many of `events` as fit in `maxBytes` (at least one): the first ones, or with `newest` the
 * last ones. `cut` says whether any were left out.
 */
export function fitPage (events: readonly TickerEvent[], maxBytes: number, newest: boolean): { events: readonly TickerEvent[], cut: boolean } {
  let bytes = 0
  let count = 0
  for (; count < events.length; count++) {
    const event = events[newest ? events.length - 1 - count : count] as TickerEvent
    bytes += event.json.length + EVENT_OVERHEAD_BYTES
    if (bytes > maxBytes && count > 0) break
  }
  if (count === events.length) return { events, cut: false }
  return { events: newest ? events.slice(events.length - count) : events.slice(0, count), cut: true }
}

export default async function topicRoutes (app: FastifyInstance, { config, bus, hub, scheduler, access, grants }: RouteDeps): Promise<void> {
  app.addHook('onRequest', access.resolve)
  app.get('/topics', async (request) => {
    const readable = new Set(await access.readableTopics(request))
    const producers = scheduler.state()
    const topics = (await bus.topics())
      .filter((t) => readable.has(t.name))
      .map((t) => ({
        name: t.name,
        title: config.topics[t.name]?.title ?? t.name,
        private: access.isPrivate(t.name),
        declared: t.declared,
        lastId: t.lastId ?? null,
        buffered: t.buffered,
        subscribers: hub.subscribers(t.name),
        producers: producers.filter((p) => p.topics.includes(t.name)).map((p) => p.name)
      }))
    return { topics }
  })

  const { historyLimit, historyMaxBytes } = config.api
  app.get<{ Params: { topic: string }, Querystring: HistoryQuery }>('/topics/:topic/events', {
    schema: { querystring: historyQuerySchema(historyLimit) }
  }, async (request) => {
    const { topic } = request.params
    access.assertReadable(request, topic)
    const after = request.query.after === '' ? undefined : request.query.after
    const page = await bus.history(topic, after, request.query.limit)
    // Without a usable `after`, the page is the newest events: keep the newest that fit.
    const newest = after === undefined || page.reset
    const fitted = fitPage(page.events, historyMaxBytes, newest)
    const hasMore = page.hasMore || (fitted.cut && !newest)
    return { topic, reset: page.reset, hasMore, events: fitted.events.map(eventJson) }
  })

  const { publishToken } = config.auth
  // Publishing takes its token from the Authorization header only: never from the URL (logs,
  // history) nor from a cookie (another site's page could make the browser send it).
  const requirePublishToken = async (request: FastifyRequest<{ Params: { topic: string } }>): Promise<void> => {
    if (publishToken === '' && !grants.signed) throw new PublishDisabledError()
    const offered = bearerToken(request)
    if (offered === undefined) throw new PublishTokenMissingError()
    if (publishToken !== '' && tokensEqual(offered, publishToken)) return
    if (!grants.signed) throw new PublishTokenWrongError()
    const grant = await grants.grantFor(offered)
    if (!grant.authenticated) throw new PublishTokenWrongError()
    if (!grant.publishes(request.params.topic)) throw new PublishForbiddenError(request.params.topic)
  }

  app.post<{ Params: { topic: string }, Body: { data: unknown } }>('/topics/:topic/events', {
    // Before the body is read: unauthenticated clients cannot make us parse anything.
    onRequest: requirePublishToken,
    // The reply is {"id"} for a publisher, not a document; this hook would run before every fan-out.
    config: { securityHeaders: false },
    schema: {
      body: {
        type: 'object',
        required: ['data'],
        properties: { data: {} }
      }
    }
  }, async (request, reply) => {
    const event = await bus.publish(request.params.topic, request.body.data)
    reply.code(201)
    return { id: event.id }
  })
}
