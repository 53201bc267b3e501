/**
 * SSE routes: `GET /topics/:topic/stream` (one topic) and `GET /stream?topic=a&topic=b`
 * (several topics on one connection; `topics=a,b` works too; none given: every readable topic;
 * `dashboard=name`: that dashboard's tiles, each as an SSE event named by its id, as HTML).
 *
 * The resume point is the `Last-Event-ID` header, else the `lastEventId` query parameter
 * (a new EventSource cannot send the header). Anything unusable there means `reset`, never an error.
 * `HEAD` answers the head a stream would get, and ends.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  DashboardStreamQueryError, DashboardUnknownError, ShuttingDownError, StreamFormatError, TooManyConnectionsError, TooManyConnectionsFromClientError, TooManyTopicsError
} from '../../errors.ts'
import type { StreamFormat } from '../../sse/formats.ts'
import type { Refusal } from '../../sse/hub.ts'
import { MAX_TOPICS_PER_STREAM, StreamQuerySchema, type StreamQuery } from '../schemas.ts'
import type { RouteDeps } from '../types.ts'

export { MAX_TOPICS_PER_STREAM } from '../schemas.ts'
/** Seconds a refused client is asked to wait. */
const RETRY_AFTER_SECONDS = 5

/** Topics named by `topic=` (repeatable) and `topics=a,b`, in order, without repeats. */
export function topicsFromQuery (query: StreamQuery): string[] {
  const named = [
    ...query.topic ?? [],
    ...(query.topics ?? []).flatMap((list) => list.split(','))
  ].map((t) => t.trim()).filter((t) => t !== '')
  return [...new Set(named)]
}

function resumeId (request: FastifyRequest<{ Querystring: StreamQuery }>): string | undefined {
  const header = request.headers['last-event-id']
  const fromHeader = Array.isArray(header) ? header[0] : header
  if (fromHeader !== undefined && fromHeader !== '') return fromHeader
  const fromQuery = request.query.lastEventId?.[0]
  return fromQuery === '' ? undefined : fromQuery
}

/** Headers that mean something on an event stream: CORS and Vary. */
const isStreamHeader = (name: string): boolean => name.startsWith('access-control-') || name === 'vary'

/**
 * The head of a stream: its own headers, and the CORS ones set on its reply (hijacked replies
 * skip Fastify's send path, so they are copied by hand). Page headers (CSP, HSTS, ...) mean
 * nothing on an event stream, and the sent head is held in memory for as long as the stream
 * lives, so they go: also any that a plugin set on the raw response.
 */
function streamHead (reply: FastifyReply): Record<string, string | number | string[]> {
  const head: Record<string, string | number | string[]> = {}
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (isStreamHeader(name) && value !== undefined) head[name] = value as string | number | string[]
  }
  for (const name of reply.raw.getHeaderNames()) if (!isStreamHeader(name)) reply.raw.removeHeader(name)
  head['content-type'] = 'text/event-stream; charset=utf-8'
  head['cache-control'] = 'no-cache, no-transform'
  head['x-accel-buffering'] = 'no'
  return head
}

const RELOAD = 'event: reload\ndata: the dashboard changed: reload the page\n\n'

const REFUSALS: Record<Refusal, () => Error> = {
  closing: () => new ShuttingDownError(),
  total: () => new TooManyConnectionsError(),
  'per-ip': () => new TooManyConnectionsFromClientError()
}

export default async function streamRoutes (app: FastifyInstance, { hub, access, dashboard }: RouteDeps): Promise<void> {
  app.addHook('onRequest', access.resolve)
  function formatOf (query: StreamQuery): StreamFormat {
    const [name = 'json', ...more] = query.format ?? []
    const format = hub.format(name)
    if (format === undefined || more.length > 0) throw new StreamFormatError(hub.formatNames.join(', '))
    return format
  }

  async function openStream (request: FastifyRequest<{ Querystring: StreamQuery }>, reply: FastifyReply, named: string[], format = formatOf(request.query)): Promise<FastifyReply | undefined> {
    // An html stream follows whole tiles, and a tile may show more than the topic named (a feed
    // tile shows its status topic too): every topic whose data it renders must be readable.
    const topics = format === dashboard.htmlFormat ? dashboard.catalogue.topicsOf(named) : named
    if (topics.length > MAX_TOPICS_PER_STREAM) throw new TooManyTopicsError(MAX_TOPICS_PER_STREAM, topics.length)
    for (const topic of topics) if (!named.includes(topic)) access.assertReadable(request, topic)
    if (request.method === 'HEAD') return reply.headers(streamHead(reply)).send()
    const refusal = hub.refusal(request.ip)
    if (refusal !== undefined) {
      reply.header('retry-after', String(RETRY_AFTER_SECONDS))
      throw REFUSALS[refusal]()
    }
    reply.hijack()
    // A stream lives no longer than the grant it was opened under (a signed token's `exp`).
    // The token was accepted with the clock leeway: the stream gets the same, or a token that
    // just expired would open a stream that ends at once, again and again.
    const expiresAt = access.endOf(request)
    await hub.open(reply.raw, { ip: request.ip, topics, lastId: resumeId(request), format, headers: streamHead(reply), ...(expiresAt === undefined ? {} : { endsAt: expiresAt }) })
    return undefined
  }

  // The document headers mean nothing on a stream; they would only be stored per connection (a
  // response with headers set before writeHead keeps each as a [name, value] pair for its life).
  const options = { config: { securityHeaders: false }, schema: { querystring: StreamQuerySchema } }

  app.get<{ Querystring: StreamQuery }>('/stream', options, async (request, reply) => {
    const [board, ...more] = request.query.dashboard ?? []
    if (board !== undefined) {
      // A dashboard's own stream: its tiles, each by its id, as rendered HTML.
      const format = dashboard.dashboardFormat(board)
      if (format === undefined || more.length > 0) throw new DashboardUnknownError(board)
      if (request.query.format !== undefined || request.query.topic !== undefined || request.query.topics !== undefined) {
        throw new DashboardStreamQueryError()
      }
      const topics = dashboard.dashboardTopics(board)
      for (const topic of topics) access.assertReadable(request, topic)
      const [layout] = request.query.layout ?? []
      if (layout !== undefined && layout !== dashboard.catalogue.layoutOf(board)) {
        // The page was rendered before its dashboard changed (a deploy): its tiles are not
        // these. It is told to reload instead of having tiles swapped into the wrong places.
        return reply.headers(streamHead(reply)).send(RELOAD)
      }
      return openStream(request, reply, topics, format)
    }
    const named = topicsFromQuery(request.query)
    if (named.length > MAX_TOPICS_PER_STREAM) throw new TooManyTopicsError(MAX_TOPICS_PER_STREAM, named.length)
    for (const topic of named) access.assertReadable(request, topic)
    const topics = named.length > 0 ? named : await access.readableTopics(request)
    return openStream(request, reply, topics)
  })

  app.get<{ Params: { topic: string }, Querystring: StreamQuery }>('/topics/:topic/stream', options, async (request, reply) => {
    const { topic } = request.params
    access.assertReadable(request, topic)
    return openStream(request, reply, [topic])
  })
}
