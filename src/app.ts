/**
 * buildApp(config): the whole service as a Fastify instance that has not started listening.
 * Plugins are registered explicitly, in order; tests start it on an ephemeral port.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import cors from '@fastify/cors'
import { createBus, createCoordinator, type Bus } from './bus/index.ts'
import type { Config } from './config/schema.ts'
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './http/plugins/errors.ts'
import { createServerInTurn } from './http/server.ts'
import { loggerOptions } from './logger.ts'
import { jsonFormat } from './sse/formats.ts'
import { selectWriter } from './sse/writers/index.ts'
import { TopicAccess } from './http/topic-access.ts'
import { Grants } from './http/grants.ts'
import healthRoutes from './http/routes/health.ts'
import streamRoutes from './http/routes/stream.ts'
import topicRoutes from './http/routes/topics.ts'
import type { RouteDeps } from './http/types.ts'
import { SseHub } from './sse/hub.ts'
import { createProducers, Scheduler } from './producers/index.ts'
import producerRoutes from './http/routes/producers.ts'
import pageRoutes from './http/routes/pages.ts'
import { registerWeb, VIEWS_DIR } from './http/plugins/web.ts'
import { Dashboard } from './dashboard/index.ts'
import { Eta } from 'eta'
import { once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import type { AddressInfo } from 'node:net'
import { createMetrics, type Metrics } from './metrics/registry.ts'
import { metricsRoute, metricsServer } from './http/routes/metrics.ts'

export interface AppParts {
  readonly bus: Bus
  readonly hub: SseHub
  readonly scheduler: Scheduler
  readonly dashboard: Dashboard
  /** Drops the idle topics of families now (it also runs on a timer); returns their names. */
  dropIdleTopics (): Promise<string[]>
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

/** At start, how long the first paint may wait for tiles to be filled from the bus's history. */
const STARTUP_FILL_WAIT_MS = 2000

/** On close, how long requests in flight may take before their connections are cut. */
const FORCE_CLOSE_AFTER_MS = 1000

export async function buildApp (config: Readonly<Config>, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config, options),
    logController: new LogController({ disableRequestLogging: !config.log.requests }),
    bodyLimit: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy,
    // How long a request may take to arrive (headers and body); a stream's response is not timed.
    requestTimeout: config.server.requestTimeoutMs,
    // Pipelined requests are handled only when their turn comes (never behind a stream).
    serverFactory: (handler, settings) => createServerInTurn(handler, settings),
    clientErrorHandler,
    frameworkErrors: frameworkErrors(config)
  })

  const bus = createBus(config, {
    onListenerError: (err, event) => app.log.error({ err, topic: event.topic }, 'bus listener failed'),
    log: app.log.child({ part: 'bus' })
  })
  const eta = new Eta({ views: VIEWS_DIR, cache: true })
  const dashboard = new Dashboard(config, eta)
  const stopTiles = dashboard.follow(bus, (err) => app.log.warn({ err }, 'tiles could not be filled from history'))
  // The first paint comes from history: wait for it, unless the bus cannot serve yet (Redis down
  // at start), in which case the tiles fill when it can and /readyz says why not meanwhile.
  await Promise.race([dashboard.filled, delay(STARTUP_FILL_WAIT_MS, undefined, { ref: false })])
  const sseLog = app.log.child({ part: 'sse' })
  const hub = new SseHub({
    bus,
    log: sseLog,
    writer: await selectWriter(config.sse.writer, sseLog),
    formats: new Map([[jsonFormat.name, jsonFormat], [dashboard.htmlFormat.name, dashboard.htmlFormat]]),
    retryMs: config.sse.retryMs,
    heartbeatMs: config.sse.heartbeatMs,
    maxQueuedBytes: config.sse.maxQueuedBytes,
    flushIntervalMs: config.sse.flushIntervalMs,
    maxConnections: config.sse.maxConnections,
    maxConnectionsPerIp: config.sse.maxConnectionsPerIp
  })
  const producers = createProducers(config)
  const coordinator = createCoordinator(bus, config, producers.map((p) => p.name))
  const scheduler = new Scheduler({
    producers,
    coordinator,
    publish: async (topic, data, lease) => (await bus.publish(topic, data, lease)).id,
    log: app.log.child({ part: 'producers' })
  })
  // Topic families: idle ones go, with what the tiles hold of them (streams hold nothing: a
  // followed topic is never idle).
  let sweeping: Promise<string[]> | undefined
  const dropIdleTopics = async (): Promise<string[]> => {
    // One sweep at a time: a slow one (many topics on Redis) is not joined by the next tick's.
    sweeping ??= (async () => {
      const dropped = await bus.dropIdle(hub.followedTopics(), 3 * sweepEveryMs)
      for (const topic of dropped) dashboard.forget(topic)
      if (dropped.length > 0) app.log.debug({ topics: dropped.length }, 'dropped idle topics')
      return dropped
    })().finally(() => { sweeping = undefined })
    return sweeping
  }
  const idleMs = Math.min(...Object.values(config.topicPatterns).map((family) => (family.idleSeconds ?? Infinity) * 1000))
  const sweepEveryMs = Number.isFinite(idleMs) ? Math.min(60_000, Math.max(1000, idleMs / 4)) : 60_000
  const sweeper = Number.isFinite(idleMs)
    ? setInterval(() => { dropIdleTopics().catch((err: unknown) => app.log.warn({ err }, 'idle topics could not be dropped')) }, sweepEveryMs).unref()
    : undefined
  const parts: AppParts = { bus, hub, scheduler, dashboard, dropIdleTopics, metricsAddress: undefined }
  app.decorate('ticker', parts)
  // Producers start once it is known which of them run here (all of them, unless Redis says otherwise).
  app.addHook('onReady', async () => {
    await coordinator.ready()
    scheduler.start()
  })

  // Streams never end on their own; end them first or close() waits forever. Then give requests
  // in flight a moment and cut what is left: a socket that connected but never sent a request
  // (a browser's preconnect) is not "idle" to Node and would hold close() for a minute.
  let forceClose: NodeJS.Timeout | undefined
  app.addHook('preClose', async () => {
    await scheduler.stop()
    await coordinator.stop() // gives the leases up: another instance takes the producers over at once
    hub.close()
    forceClose = setTimeout(() => {
      app.server.closeAllConnections()
      hub.destroyEnded()
    }, FORCE_CLOSE_AFTER_MS).unref()
  })
  app.addHook('onClose', async () => {
    clearTimeout(forceClose)
    clearInterval(sweeper)
    stopTiles()
    metrics?.close()
    await bus.close()
  })

  // The API speaks JSON only: a text/plain body is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain')

  await registerWeb(app, eta)
  await registerErrorHandling(app, config)
  if (config.cors.origins.length > 0) {
    await app.register(cors, {
      // Exact origins are echoed back. Credentials are allowed because EventSource clients such
      // as htmx's SSE extension open streams withCredentials. The one cookie Ticker reads (a
      // signed token) counts only for origins listed by name (grants.ts), so "*", which echoes
      // any origin, exposes nothing private.
      origin: config.cors.origins.includes('*') ? true : [...config.cors.origins],
      credentials: true,
      methods: ['GET', 'HEAD'],
      exposedHeaders: ['Retry-After'],
      maxAge: 600
    })
  }

  let metrics: Metrics | undefined
  if (config.metrics.enabled) {
    metrics = createMetrics({ config, bus, hub, scheduler, renders: () => dashboard.renders, log: app.log.child({ part: 'metrics' }) })
    metrics.instrument(app)
    const { registry } = metrics
    const { separate } = config.metrics
    if (separate.enabled) {
      const server = metricsServer(registry, config, (err) => app.log.error({ err }, 'metrics could not be collected'))
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

  const grants = new Grants(config)
  const deps: RouteDeps = { config, bus, hub, scheduler, dashboard, grants, access: new TopicAccess(config, bus, grants) }
  await app.register(healthRoutes, deps)
  await app.register(topicRoutes, deps)
  await app.register(streamRoutes, deps)
  await app.register(producerRoutes, deps)
  await app.register(pageRoutes, deps)
  return app
}
