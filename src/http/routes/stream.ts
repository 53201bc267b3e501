/**
 * SSE routes: `GET /topics/:topic/stream` (one topic) and `GET /stream?topic=a&topic=b`
 * (several topics on one connection; `topics=a,b` works too; none given: every readable topic).
 *
 * The resume point is the `Last-Event-ID` header, else the `lastEventId` query parameter
 * (a new EventSource cannot send the header). Anything unusable there means `reset`, never an error.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { BadRequestError, ShuttingDownError, TooManyConnectionsError, TooManyConnectionsFromClientError } from '../../errors.ts'
import type { Refusal } from '../../sse/hub.ts'
import type { StreamFormat } from '../../sse/session.ts'
import type { RouteDeps } from '../types.ts'

/** Most topics one stream may follow. */
const MAX_TOPICS_PER_STREAM = 256
/** Seconds a refused client is asked to wait. */
const RETRY_AFTER_SECONDS = 5

interface StreamQuery {
  topic?: string | string[]
  topics?: string | string[]
  lastEventId?: string | string[]
  format?: string | string[]
}

const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value]

/** Topics named by `topic=` (repeatable) and `topics=a,b`, in order, without repeats. */
export function topicsFromQuery (query: StreamQuery): string[] {
  const named = [
    ...asList(query.topic),
    ...asList(query.topics).flatMap((list) => list.split(','))
  ].map((t) => t.trim()).filter((t) => t !== '')
  return [...new Set(named)]
}

function resumeId (request: FastifyRequest<{ Querystring: StreamQuery }>): string | undefined {
  const header = request.headers['last-event-id']
  const fromHeader = Array.isArray(header) ? header[0] : header
  if (fromHeader !== undefined && fromHeader !== '') return fromHeader
  const fromQuery = asList(request.query.lastEventId)[0]
  return fromQuery === '' ? undefined : fromQuery
}

/** Headers that mean something on an event stream: CORS and Vary. */
const isStreamHeader = (name: string): boolean => name.startsWith('access-control-') || name === 'vary'

/**
 * The headers a stream keeps from those set on its reply (hijacked replies skip Fastify's send
 * path, so they are copied by hand). Page headers (CSP, HSTS, ...) mean nothing on an event
 * stream, and the sent head is held in memory for as long as the stream lives, so they go:
 * also any that a plugin set on the raw response.
 */
function streamHeaders (reply: FastifyReply): Record<string, string | number | string[] | undefined> {
  const kept: Record<string, string | number | string[] | undefined> = {}
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (isStreamHeader(name)) kept[name] = value as string | number | string[] | undefined
  }
  for (const name of reply.raw.getHeaderNames()) if (!isStreamHeader(name)) reply.raw.removeHeader(name)
  return kept
}

/**
 * Lets the reply and request objects go once the stream is ours. Fastify keeps a 'finish'/'error'
 * listener on the response to run onResponse hooks and log completion; on a stream that lives for
 * hours it would hold the reply, the request and their child logger (≈4 KB per open stream).
 * Streams are accounted for by the hub instead. If Fastify renames the listener, nothing is removed.
 */
function releaseReply (reply: FastifyReply): void {
  for (const event of ['finish', 'error'] as const) {
    for (const listener of reply.raw.listeners(event)) {
      if ((listener as { name?: string }).name === 'onResFinished') reply.raw.removeListener(event, listener as (...args: unknown[]) => void)
    }
  }
}

const REFUSALS: Record<Refusal, () => Error> = {
  closing: () => new ShuttingDownError(),
  total: () => new TooManyConnectionsError(),
  'per-ip': () => new TooManyConnectionsFromClientError()
}

function formatOf (query: StreamQuery): StreamFormat {
  const [format = 'json', ...more] = asList(query.format)
  if (more.length > 0 || (format !== 'json' && format !== 'html')) throw new BadRequestError('format must be json (the default) or html')
  return format
}

export default async function streamRoutes (app: FastifyInstance, { hub, access, tiles }: RouteDeps): Promise<void> {
  async function openStream (request: FastifyRequest<{ Querystring: StreamQuery }>, reply: FastifyReply, named: string[]): Promise<void> {
    const format = formatOf(request.query)
    // An html stream follows whole tiles: a feed tile also changes with its status topic.
    const topics = format === 'html'
      ? tiles.topicsOf(named).filter((t) => named.includes(t) || access.canRead(request, t))
      : named
    const refusal = hub.refusal(request.ip)
    if (refusal !== undefined) {
      reply.header('retry-after', String(RETRY_AFTER_SECONDS))
      throw REFUSALS[refusal]()
    }
    reply.hijack()
    releaseReply(reply)
    await hub.open(reply.raw, {
      ip: request.ip,
      topics,
      lastId: resumeId(request),
      format,
      headers: {
        ...streamHeaders(reply),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no'
      }
    })
  }

  // The document headers mean nothing on a stream; they would only be stored per connection (a
  // response with headers set before writeHead keeps each as a [name, value] pair for its life).
  const options = { config: { securityHeaders: false } }

  app.get<{ Querystring: StreamQuery }>('/stream', options, async (request, reply) => {
    const named = topicsFromQuery(request.query)
    if (named.length > MAX_TOPICS_PER_STREAM) {
      throw new BadRequestError(`A stream may follow at most ${MAX_TOPICS_PER_STREAM} topics; got ${named.length}`)
    }
    for (const topic of named) access.assertReadable(request, topic)
    const topics = named.length > 0 ? named : await access.readableTopics(request)
    await openStream(request, reply, topics)
  })

  app.get<{ Params: { topic: string }, Querystring: StreamQuery }>('/topics/:topic/stream', options, async (request, reply) => {
    const { topic } = request.params
    access.assertReadable(request, topic)
    await openStream(request, reply, [topic])
  })
}
