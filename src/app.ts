/**
 * buildApp(config): the whole service as a Fastify instance that has not started listening.
 * Plugins are registered explicitly, in order; tests start it on an ephemeral port.
 */
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import cors from '@fastify/cors'
import { createBus, type Bus } from './bus/index.ts'
import type { Config } from './config/schema.ts'
import { NotFoundError } from './errors.ts'
import { TopicAccess } from './http/topic-access.ts'
import healthRoutes from './http/routes/health.ts'
import streamRoutes from './http/routes/stream.ts'
import topicRoutes from './http/routes/topics.ts'
import type { RouteDeps } from './http/types.ts'
import { SseHub } from './sse/hub.ts'
import { createProducers, Scheduler } from './producers/index.ts'
import producerRoutes from './http/routes/producers.ts'
import pageRoutes from './http/routes/pages.ts'
import { registerWeb, VIEWS_DIR } from './http/plugins/web.ts'
import { Tiles } from './http/views/tiles.ts'
import { Eta } from 'eta'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { createMetrics, type Metrics } from './metrics/registry.ts'
import { metricsRoute, metricsServer } from './http/routes/metrics.ts'

export interface AppParts {
  readonly bus: Bus
  readonly hub: SseHub
  readonly scheduler: Scheduler
  /** Where the separate metrics listener is, when `metrics.separate` is on and the app is ready. */
  metricsAddress: string | undefined
}

export interface BuildOptions {
  /** Human-readable logs (pino-pretty) instead of JSON lines. main.ts decides; default false. */
  readonly prettyLogs?: boolean
  /** Where JSON log lines go instead of stdout (embedding, tests). */
  readonly logStream?: { write (line: string): void }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's parts, for main.ts and tests; routes get them as plugin options. */
    ticker: AppParts
  }
}

/** On close, how long requests in flight may take before their connections are cut. */
const FORCE_CLOSE_AFTER_MS = 1000

/** Friendlier words for the errors Fastify itself raises while reading a request. */
function clientMessage (err: FastifyError, config: Readonly<Config>): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return `Request body is larger than the limit of ${config.server.bodyLimitBytes} bytes`
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return 'Request body is not valid JSON'
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return 'Request body is empty; send JSON such as {"data": ...}'
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return 'Send the body as JSON with "Content-Type: application/json"'
    default: return err.message
  }
}

/** The URL without secrets: `access_token` never reaches the logs. */
const redactUrl = (url: string): string => url.replace(/([?&]access_token=)[^&]*/gi, '$1[redacted]')

function routerErrorMessage (code: string, url: string): string {
  const path = url.split('?')[0] ?? ''
  if (code === 'FST_ERR_BAD_URL') return `The path ${JSON.stringify(path)} has a malformed %-escape`
  if (code === 'FST_ERR_MAX_PARAM_LENGTH') return 'A part of the path is over 100 characters long (topic names have at most 64)'
  return 'The request cannot be routed'
}

export async function buildApp (config: Readonly<Config>, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.log.level,
      ...(options.prettyLogs === true ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
      ...(options.logStream === undefined ? {} : { stream: options.logStream }),
      serializers: {
        req: (req: FastifyRequest) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip })
      }
    },
    logController: new LogController({ disableRequestLogging: !config.log.requests }),
    bodyLimit: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy,
    // Streams live long: only a client or shutdown ends them.
    requestTimeout: 0,
    // Errors the router raises before any route get the same {code, message} body as every other
    // error, and (unlike Fastify's own) do not echo the query string, where a token may be.
    frameworkErrors: (err, request, reply) => {
      const raw: FastifyReply = reply // its generic type takes no plain body
      raw.code(err.statusCode ?? 400).send({ code: err.code, message: routerErrorMessage(err.code, request.url) })
    }
  })

  const bus = createBus(config, {
    onListenerError: (err, event) => app.log.error({ err, topic: event.topic }, 'bus listener failed')
  })
  const eta = new Eta({ views: VIEWS_DIR, cache: true })
  const tiles = new Tiles(config, eta)
  // Tiles follow the bus before the hub does: listeners run in order, so a tile already holds an
  // event when the hub renders that event's html frame.
  const stopTiles = await tiles.follow(bus)
  const hub = new SseHub({
    bus,
    log: app.log.child({ part: 'sse' }),
    retryMs: config.sse.retryMs,
    heartbeatMs: config.sse.heartbeatMs,
    maxQueuedBytes: config.sse.maxQueuedBytes,
    flushIntervalMs: config.sse.flushIntervalMs,
    maxConnections: config.sse.maxConnections,
    maxConnectionsPerIp: config.sse.maxConnectionsPerIp,
    htmlFrame: (event) => tiles.htmlFrame(event)
  })
  const scheduler = new Scheduler({
    producers: createProducers(config),
    publish: async (topic, data) => (await bus.publish(topic, data)).id,
    log: app.log.child({ part: 'producers' })
  })
  const parts: AppParts = { bus, hub, scheduler, metricsAddress: undefined }
  app.decorate('ticker', parts)
  app.addHook('onReady', async () => { scheduler.start() })

  // Streams never end on their own; end them first or close() waits forever. Then give requests
  // in flight a moment and cut what is left: a socket that connected but never sent a request
  // (a browser's preconnect) is not "idle" to Node and would hold close() for a minute.
  let forceClose: NodeJS.Timeout | undefined
  app.addHook('preClose', async () => {
    await scheduler.stop()
    hub.close()
    forceClose = setTimeout(() => {
      app.server.closeAllConnections()
      hub.destroyEnded()
    }, FORCE_CLOSE_AFTER_MS).unref()
  })
  app.addHook('onClose', async () => {
    clearTimeout(forceClose)
    stopTiles()
    metrics?.close()
    await bus.close()
  })

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode ?? 500
    const ours = err.code?.startsWith('TICKER_ERR_') === true
    if (status >= 500 && !ours) {
      request.log.error({ err }, 'request failed')
      return reply.code(status).send({ code: 'TICKER_ERR_INTERNAL', message: 'Internal server error' })
    }
    return reply.code(status).send({ code: err.code ?? 'TICKER_ERR_BAD_REQUEST', message: clientMessage(err, config) })
  })
  app.setNotFoundHandler(async (request, reply) => {
    const err = new NotFoundError(request.method, redactUrl(request.url.split('?')[0] ?? ''))
    reply.code(404)
    // A person following a link gets a page; API clients get JSON.
    if (request.headers.accept?.includes('text/html') === true) {
      return reply.view('not-found', { pageTitle: 'Not found · Ticker', message: 'There is nothing at this address.' })
    }
    return { code: err.code, message: err.message }
  })

  // The API speaks JSON only: a text/plain body is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain')

  if (config.cors.origins.length > 0) {
    await app.register(cors, {
      // Exact origins are echoed back. Credentials are allowed because EventSource clients such
      // as htmx's SSE extension open streams withCredentials; Ticker reads no cookies, so the
      // grant exposes nothing more. "*" therefore echoes any origin instead of sending "*".
      origin: config.cors.origins.includes('*') ? true : [...config.cors.origins],
      credentials: true,
      methods: ['GET', 'HEAD'],
      exposedHeaders: ['Retry-After'],
      maxAge: 600
    })
  }

  let metrics: Metrics | undefined
  if (config.metrics.enabled) {
    metrics = createMetrics({ config, bus, hub, scheduler, log: app.log.child({ part: 'metrics' }) })
    metrics.instrument(app)
    const { registry } = metrics
    const { separate, token } = config.metrics
    if (separate.enabled) {
      const server = metricsServer(registry, token)
      app.addHook('onReady', async () => {
        server.listen(separate.port, separate.host)
        await once(server, 'listening')
        const { address, port } = server.address() as AddressInfo
        parts.metricsAddress = `http://${address.includes(':') ? `[${address}]` : address}:${port}`
      })
      app.addHook('onClose', async () => {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      })
    } else {
      await app.register(metricsRoute, { registry, config })
    }
  }

  await registerWeb(app, eta)
  const deps: RouteDeps = { config, bus, hub, scheduler, tiles, access: new TopicAccess(config, bus) }
  await app.register(healthRoutes, deps)
  await app.register(topicRoutes, deps)
  await app.register(streamRoutes, deps)
  await app.register(producerRoutes, deps)
  await app.register(pageRoutes, deps)
  return app
}
