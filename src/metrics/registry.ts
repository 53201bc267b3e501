/**
 * Every metric Ticker exports, in one place, on one prom-client Registry per app.
 *
 * Hot paths are not touched: the hub and the bus keep plain counters and state, and the
 * `collect()` functions below read them when Prometheus scrapes. Every label value comes from a
 * bounded set (declared or created topics, configured producers and feeds, route patterns), never
 * from raw URLs, addresses or unknown topics.
 */
import { readdir } from 'node:fs/promises'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type CounterConfiguration, type GaugeConfiguration } from 'prom-client'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { familyPatternOf, type Bus, type TopicInfo } from '../bus/index.ts'
import { feedStatusTopic, type Config } from '../config/schema.ts'
import type { Scheduler } from '../producers/index.ts'
import type { HubStats, SseHub } from '../sse/hub.ts'

export interface MetricsSources {
  readonly config: Readonly<Config>
  /** Tile bodies rendered so far. */
  readonly renders?: () => number
  readonly bus: Bus
  readonly hub: SseHub
  readonly scheduler: Scheduler
  readonly log: FastifyBaseLogger
}

export interface Metrics {
  readonly registry: Registry
  /** Records request durations by route pattern and status class. */
  instrument (app: FastifyInstance): void
  /** Stops listening to the bus and the scheduler. */
  close (): void
}

/**
 * The `topic` label of private topics when /metrics has no token: they are summed under this one
 * label (a topic name cannot contain parentheses), so an open /metrics never names them.
 */
export const PRIVATE_TOPICS_LABEL = '(private)'

const RUN_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const OPEN_FDS_MAX_AGE_MS = 10_000
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

export function createMetrics ({ config, bus, hub, scheduler, log, renders }: MetricsSources): Metrics {
  const registry = new Registry()
  const registers = [registry]
  const gauge = <L extends string>(options: GaugeConfiguration<L>): Gauge<L> => new Gauge({ ...options, registers })
  const counter = <L extends string>(options: CounterConfiguration<L>): Counter<L> => new Counter({ ...options, registers })

  /** A collect() that cannot fail the scrape: a failure is logged and the metric keeps its last value. */
  const guarded = <T>(name: string, read: (metric: T) => void | Promise<void>) => async function (this: T): Promise<void> {
    try {
      await read(this)
    } catch (err) {
      log.warn({ err, metric: name }, 'a metric could not be collected')
    }
  }

  // Process and runtime metrics
  const prefix = config.metrics.defaultMetricsPrefix
  collectDefaultMetrics({ register: registry, prefix })
  // The nodejs_active_{handles,requests,resources} family lists every handle on each scrape: with
  // 10,000 open streams that is most of the scrape's cost (see docs/BENCHMARKS.md), and the
  // *_total ones are gauges named like counters (promtool flags them). ticker_sse_open_streams and
  // process_open_fds say what they would.
  for (const family of ['nodejs_active_handles', 'nodejs_active_requests', 'nodejs_active_resources']) {
    registry.removeSingleMetric(prefix + family)
    registry.removeSingleMetric(`${prefix}${family}_total`)
  }
  // prom-client counts open fds with a synchronous readdir of /proc/self/fd: ~30 ms of blocked
  // event loop at 16,000 fds. Here the count is read off the event loop, in the background, at
  // most every OPEN_FDS_MAX_AGE_MS; a scrape takes the latest count and never waits for it.
  if (registry.getSingleMetric(`${prefix}process_open_fds`) !== undefined) {
    registry.removeSingleMetric(`${prefix}process_open_fds`)
    let readAt = 0
    let reading: Promise<void> | undefined
    gauge({
      name: `${prefix}process_open_fds`,
      help: `Number of open file descriptors (counted at most every ${OPEN_FDS_MAX_AGE_MS / 1000} s).`,
      collect: guarded<Gauge>('process_open_fds', async (g) => {
        if (reading !== undefined || Date.now() - readAt < OPEN_FDS_MAX_AGE_MS) return
        reading = readdir('/proc/self/fd').then((fds) => { g.set(fds.length) }, (err: unknown) => {
          log.warn({ err }, 'cannot count open file descriptors')
        }).finally(() => {
          readAt = Date.now()
          reading = undefined
        })
        if (readAt === 0) await reading // the first scrape waits, so the gauge is never empty
      })
    })
  }

  const topics = async (): Promise<TopicInfo[]> => bus.topics()
  const hidePrivate = config.metrics.token === ''
  /** The label a topic's series carry (several private topics may share one: values add up). */
  /**
   * A topic's label: its name; a family's topics share their pattern (one series per family,
   * never one per user); private ones are summed under PRIVATE_TOPICS_LABEL without the token.
   */
  const topicLabel = (name: string): string => {
    const family = familyPatternOf(config, name)
    const isPrivate = family === undefined ? config.topics[name]?.private === true : config.topicPatterns[family]?.private === true
    return hidePrivate && isPrivate ? PRIVATE_TOPICS_LABEL : family ?? name
  }
  /** A per-topic gauge, filled at scrape time from `value` of each topic. */
  const topicGauge = (name: string, help: string, value: (t: TopicInfo) => number): void => {
    gauge({
      name,
      help,
      labelNames: ['topic'],
      collect: guarded<Gauge>(name, async (g) => {
        g.reset()
        for (const t of await topics()) g.inc({ topic: topicLabel(t.name) }, value(t))
      })
    })
  }

  /** A counter mirroring one of the hub's counters. */
  const hubCounter = (name: string, help: string, read: (s: Readonly<HubStats>) => number): void => {
    counter({
      name,
      help,
      collect: guarded<Counter>(name, (c) => { c.reset(); c.inc(read(hub.stats())) })
    })
  }

  // SSE
  gauge({
    name: 'ticker_sse_open_streams',
    help: 'Open SSE streams',
    collect: guarded<Gauge>('ticker_sse_open_streams', (g) => { g.set(hub.size) })
  })
  topicGauge('ticker_sse_subscribers', 'Open SSE streams following each topic (a stream of several topics counts once per topic)',
    (t) => hub.subscribers(t.name))
  hubCounter('ticker_sse_connections_opened_total', 'SSE streams opened', (s) => s.opened)
  counter({
    name: 'ticker_sse_connections_closed_total',
    help: 'SSE streams closed, by reason: client (went away), slow (fell behind), limit (refused at a connection limit), shutdown, error, expired (its token did)',
    labelNames: ['reason'],
    collect: guarded<Counter>('ticker_sse_connections_closed_total', (c) => {
      c.reset()
      for (const [reason, n] of Object.entries(hub.stats().closed)) c.inc({ reason }, n)
      c.inc({ reason: 'limit' }, Object.values(hub.refusedCounts()).reduce((a, b) => a + b, 0))
    })
  })
  counter({
    name: 'ticker_sse_connections_refused_total',
    help: 'SSE streams refused at a limit: total (503), per_ip (429), closing (503 during shutdown)',
    labelNames: ['limit'],
    collect: guarded<Counter>('ticker_sse_connections_refused_total', (c) => {
      c.reset()
      for (const [limit, n] of Object.entries(hub.refusedCounts())) c.inc({ limit: limit.replace('-', '_') }, n)
    })
  })
  hubCounter('ticker_sse_events_delivered_total', 'Event frames written to streams (one per event per stream)', (s) => s.eventsDelivered)
  hubCounter('ticker_sse_bytes_written_total', 'Bytes written to SSE streams, heartbeats included', (s) => s.bytesWritten)
  hubCounter('ticker_sse_writes_total', 'Writes to SSE streams: one per stream per flush, however many events it carries; heartbeats and replays included', (s) => s.writes)
  hubCounter('ticker_sse_replays_total', 'Streams opened with a resume ID (Last-Event-ID or lastEventId)', (s) => s.replays)
  hubCounter('ticker_sse_replayed_events_total', 'Events sent to resuming streams from the buffers', (s) => s.replayedEvents)
  hubCounter('ticker_sse_resets_total', 'reset events sent (history a client asked for was gone)', (s) => s.resets)
  hubCounter('ticker_sse_frame_failures_total', 'Events a stream format could not frame (a renderer failed); its streams skipped them', (s) => s.frameFailures)
  counter({
    name: 'ticker_tile_renders_total',
    help: 'Tile bodies rendered (pages, and html stream frames: once per event per tile, whatever the number of subscribers)',
    collect: guarded<Counter>('ticker_tile_renders_total', (c) => { c.reset(); c.inc(renders?.() ?? 0) })
  })

  // Bus
  const published = counter({ name: 'ticker_bus_events_published_total', help: 'Events accepted by the bus', labelNames: ['topic'] })
  const lastEvent = gauge({ name: 'ticker_bus_last_event_timestamp_seconds', help: 'When the newest event of each topic was accepted (Unix time)', labelNames: ['topic'] })
  topicGauge('ticker_bus_buffered_events', 'Events held in each topic\'s ring buffer', (t) => t.buffered)
  topicGauge('ticker_bus_buffer_capacity_events', 'Capacity of each topic\'s ring buffer',
    (t) => config.topics[t.name]?.capacity ?? config.bus.topicDefaults.capacity)

  gauge({
    name: 'ticker_bus_up',
    help: 'Whether the bus can serve: 1, or 0 while its store (Redis) is out of reach',
    collect: guarded<Gauge>('ticker_bus_up', (g) => { g.set(bus.state === 'up' ? 1 : 0) })
  })

  // Producers
  gauge({
    name: 'ticker_producer_runs_here',
    help: 'Whether each producer runs on this instance (1); with several instances on Redis, one runs each',
    labelNames: ['producer'],
    collect: guarded<Gauge>('ticker_producer_runs_here', (g) => {
      for (const p of scheduler.state()) g.set({ producer: p.name }, p.runsHere ? 1 : 0)
    })
  })
  const runs = counter({ name: 'ticker_producer_runs_total', help: 'Producer runs, by outcome: ok, error, timeout', labelNames: ['producer', 'outcome'] })
  const runDuration = new Histogram({ name: 'ticker_producer_run_duration_seconds', help: 'How long producer runs take', labelNames: ['producer'], buckets: RUN_BUCKETS, registers })
  gauge({
    name: 'ticker_producer_last_success_timestamp_seconds',
    help: 'When each producer last ran successfully (Unix time)',
    labelNames: ['producer'],
    collect: guarded<Gauge>('ticker_producer_last_success_timestamp_seconds', (g) => {
      g.reset()
      for (const p of scheduler.state()) if (p.lastSuccessAt !== null) g.set({ producer: p.name }, Date.parse(p.lastSuccessAt) / 1000)
    })
  })
  for (const p of scheduler.state()) for (const outcome of ['ok', 'error', 'timeout']) runs.inc({ producer: p.name, outcome }, 0)

  const feedStatus = gauge({ name: 'ticker_feed_last_http_status', help: 'HTTP status of each feed\'s last poll (0: no answer)', labelNames: ['feed'] })
  const feedItems = counter({ name: 'ticker_feed_items_published_total', help: 'New items published, by feed', labelNames: ['feed'] })
  const feedFailures = gauge({ name: 'ticker_feed_consecutive_failures', help: 'Failed polls in a row, by feed', labelNames: ['feed'] })

  // Feed figures come from the status events feeds publish; only configured feeds become labels.
  const feedNames = new Map(config.producers.feeds.map((f) => [feedStatusTopic(f.topic), new Set<string>()]))
  for (const f of config.producers.feeds) {
    feedNames.get(feedStatusTopic(f.topic))?.add(f.name)
    feedItems.inc({ feed: f.name }, 0)
  }

  const stopBus = bus.subscribe((event) => {
    const topic = topicLabel(event.topic)
    published.inc({ topic })
    lastEvent.set({ topic }, event.time / 1000)
    const names = feedNames.get(event.topic)
    if (names === undefined) return
    const status = event.data as { feed?: unknown, httpStatus?: unknown, consecutiveFailures?: unknown, itemsPublished?: unknown }
    if (typeof status.feed !== 'string' || !names.has(status.feed)) return
    const feed = status.feed
    feedStatus.set({ feed }, typeof status.httpStatus === 'number' ? status.httpStatus : 0)
    if (typeof status.consecutiveFailures === 'number') feedFailures.set({ feed }, status.consecutiveFailures)
    if (typeof status.itemsPublished === 'number' && status.itemsPublished > 0) feedItems.inc({ feed }, status.itemsPublished)
  })
  const stopRuns = scheduler.onRun((report) => {
    runs.inc({ producer: report.producer, outcome: report.outcome })
    runDuration.observe({ producer: report.producer }, report.durationMs / 1000)
  })

  // HTTP
  const requestDuration = new Histogram({
    name: 'ticker_http_request_duration_seconds',
    help: 'HTTP request durations by route pattern, method and status class (streams excluded)',
    labelNames: ['route', 'method', 'status_class'],
    buckets: HTTP_BUCKETS,
    registers
  })

  return {
    registry,
    instrument (app) {
      app.addHook('onResponse', async (request, reply) => {
        requestDuration.observe({
          route: request.routeOptions.url ?? 'unmatched',
          method: request.method,
          status_class: `${Math.floor(reply.statusCode / 100)}xx`
        }, reply.elapsedTime / 1000)
      })
    },
    close () {
      stopBus()
      stopRuns()
    }
  }
}
