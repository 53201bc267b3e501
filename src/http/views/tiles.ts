/**
 * Tiles: how each topic is shown. One rendering path (the Eta partials in views/partials/tiles)
 * serves the server-rendered dashboard, the embed pages, and live updates: on every event the
 * tile's body is rendered once and the same HTML goes to every `format=html` subscriber
 * (the dashboard's own script and htmx pages alike).
 *
 * Each tile keeps the little history it shows (feed headlines, chart samples), updated from the bus.
 */
import type { Eta } from 'eta'
import type { Bus, TickerEvent } from '../../bus/index.ts'
import { feedStatusTopic, type Config, type TileKind } from '../../config/schema.ts'
import { encodeFrameText } from '../../sse/frame.ts'
import { formatAge, formatBytes, formatPercent, sparklinePoints } from './format.ts'

/** What a tile shows, resolved from config. */
export interface TileDefinition {
  /** The topic the tile is named after. */
  readonly topic: string
  readonly kind: TileKind
  readonly title: string
  /** Every topic whose events change the tile (a feed tile also follows its status topic). */
  readonly topics: readonly string[]
}

export const CHART_WIDTH = 300
export const CHART_HEIGHT = 60

interface TileState {
  readonly definition: TileDefinition
  /** Newest last; bounded. */
  readonly events: TickerEvent[]
  status: TickerEvent | undefined
}

type Plain = Record<string, unknown>
const asObject = (value: unknown): Plain => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Plain : {})
const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : NaN)
const str = (value: unknown): string => (typeof value === 'string' ? value : '')
const iso = (ms: number): string => new Date(ms).toISOString()

/** The kind a topic gets when config does not say: from the producer that feeds it. */
function inferKind (topic: string, config: Readonly<Config>): TileKind {
  const { clock, system, feeds } = config.producers
  if (clock.enabled && clock.topic === topic) return 'clock'
  if (system.enabled && system.topic === topic) return 'system'
  if (feeds.some((f) => f.enabled !== false && f.topic === topic)) return 'feed'
  return 'generic'
}

export class Tiles {
  readonly #config: Readonly<Config>
  readonly #eta: Eta
  readonly #now: () => number
  readonly #states = new Map<string, TileState>()
  /** Topic → the tile its events change. */
  readonly #byTopic = new Map<string, TileState>()
  readonly #frames = new WeakMap<TickerEvent, Buffer>()

  constructor (config: Readonly<Config>, eta: Eta, now: () => number = Date.now) {
    this.#config = config
    this.#eta = eta
    this.#now = now
    // Dashboard tiles and feed tiles first, so a status topic maps to its feed's tile.
    for (const dashboard of Object.values(config.dashboards)) for (const tile of dashboard.tiles) this.#create(tile.topic)
    for (const feed of config.producers.feeds) if (feed.enabled !== false) this.#create(feed.topic)
    for (const topic of Object.keys(config.topics)) if (!this.#byTopic.has(topic)) this.#create(topic)
  }

  /** Tiles held now: one per topic that is declared or has had an event. Reading never adds one. */
  get size (): number {
    return this.#states.size
  }

  /**
   * The tile that shows `topic`'s events: its own, or for a feed's status topic the feed's tile.
   * A topic with no tile yet (no event so far) gets a fresh definition that is not kept.
   */
  definition (topic: string): TileDefinition {
    return this.#tileOf(topic).definition
  }

  /** Every topic whose data the tiles showing `topics` render (a feed tile also shows its status topic). */
  topicsOf (topics: readonly string[]): string[] {
    return [...new Set(topics.flatMap((t) => this.definition(t).topics))]
  }

  /**
   * Follows the bus live, and fills tiles from its history as soon as the bus can serve (at once
   * for the memory backend; when Redis is reached for redis). `filled` settles when that is done
   * (a failure is passed to `onError`). Returns the unsubscribe function.
   */
  follow (bus: Bus, onError: (err: unknown) => void): () => void {
    const unsubscribe = bus.subscribe((event) => this.apply(event))
    this.filled = bus.ready().then(async () => {
      for (const { name } of await bus.topics()) {
        const state = this.#byTopic.get(name) ?? this.#create(name)
        const keep = this.#keep(state.definition.kind)
        for (const event of (await bus.history(name, undefined, keep)).events) this.apply(event)
      }
    }).catch(onError)
    return unsubscribe
  }

  /** Settles once follow() filled the tiles from history (or failed to). */
  filled: Promise<void> = Promise.resolve()

  /** Takes an event of the bus: the only way a tile for a topic not declared comes to be. */
  apply (event: TickerEvent): void {
    const state = this.#byTopic.get(event.topic) ?? this.#create(event.topic)
    if (event.topic !== state.definition.topic) {
      state.status = event
      return
    }
    const last = state.events.at(-1)
    if (last !== undefined && last.seq >= event.seq) return // already have it (history raced the live event)
    state.events.push(event)
    const keep = this.#keep(state.definition.kind)
    if (state.events.length > keep) state.events.splice(0, state.events.length - keep)
  }

  /** The view model of the tile that shows `topic`. */
  view (topic: string): Plain {
    const { definition, events, status } = this.#tileOf(topic)
    const latest = events.at(-1)
    const now = this.#now()
    const base = {
      ...definition,
      updatedIso: latest === undefined ? null : iso(latest.time),
      updatedAge: latest === undefined ? null : formatAge(now - latest.time)
    }
    switch (definition.kind) {
      case 'clock': return { ...base, clock: latest === undefined ? null : clockView(latest.data) }
      case 'system': return { ...base, system: latest === undefined ? null : systemView(events) }
      case 'feed': return { ...base, feed: feedView(events, status, now) }
      case 'generic': return { ...base, json: latest === undefined ? null : genericJson(latest.data) }
    }
  }

  /** The body of the tile that shows `topic`, as HTML, as it is now. */
  renderBody (topic: string): string {
    return this.#eta.render('partials/tile-body', this.view(topic))
  }

  /**
   * The SSE frame of `event` for `format=html` streams: the body of the tile it changes, rendered
   * once. The event is named after the tile's topic (a feed's status event updates the feed tile).
   */
  htmlFrame (event: TickerEvent): Buffer {
    let frame = this.#frames.get(event)
    if (frame === undefined) {
      const { definition } = this.#tileOf(event.topic)
      frame = Buffer.from(encodeFrameText(definition.topic, this.renderBody(event.topic), event.id))
      this.#frames.set(event, frame)
    }
    return frame
  }

  #keep (kind: TileKind): number {
    return kind === 'feed' ? this.#config.ui.feedItems : kind === 'system' ? this.#config.ui.chartPoints : 1
  }

  #tileOf (topic: string): TileState {
    return this.#byTopic.get(topic) ?? { definition: this.#define(topic), events: [], status: undefined }
  }

  #create (topic: string): TileState {
    const existing = this.#states.get(topic)
    if (existing !== undefined) return existing
    const state: TileState = { definition: this.#define(topic), events: [], status: undefined }
    this.#states.set(topic, state)
    for (const t of state.definition.topics) if (!this.#byTopic.has(t)) this.#byTopic.set(t, state)
    return state
  }

  #define (topic: string): TileDefinition {
    const configured = Object.values(this.#config.dashboards).flatMap((d) => d.tiles).find((t) => t.topic === topic)
    const kind = configured?.kind ?? inferKind(topic, this.#config)
    const statusTopic = feedStatusTopic(topic)
    return {
      topic,
      kind,
      title: configured?.title ?? this.#config.topics[topic]?.title ?? topic,
      topics: kind === 'feed' && this.#config.topics[statusTopic] !== undefined ? [topic, statusTopic] : [topic]
    }
  }
}

function clockView (data: unknown): Plain {
  const tick = asObject(data)
  const zones = Array.isArray(tick.zones) ? tick.zones.map(asObject) : []
  const main = zones[0]
  return {
    time: main === undefined ? str(tick.iso).slice(11, 19) : str(main.time),
    date: main === undefined ? str(tick.iso).slice(0, 10) : str(main.date),
    zone: main === undefined ? 'UTC' : `${str(main.zone)} (${str(main.offset)})`,
    others: zones.slice(1).map((z) => ({ zone: str(z.zone), time: str(z.time).slice(0, 5), offset: str(z.offset) }))
  }
}

function systemView (events: readonly TickerEvent[]): Plain {
  const samples = events.map((e) => asObject(e.data))
  const s = samples.at(-1) ?? {}
  const rx = num(s.netRxBytesPerSecond)
  const tx = num(s.netTxBytesPerSecond)
  return {
    cpu: formatPercent(num(s.cpuPercent)),
    mem: formatPercent(num(s.memUsedPercent)),
    memDetail: `${formatBytes(num(s.memUsedBytes))} of ${formatBytes(num(s.memTotalBytes))}`,
    load: [s.load1, s.load5, s.load15].map((l) => (Number.isFinite(num(l)) ? num(l).toFixed(2) : '–')).join(' '),
    net: Number.isNaN(rx) ? null : { rx: `↓ ${formatBytes(rx)}/s`, tx: `↑ ${formatBytes(tx)}/s` },
    cpuPoints: sparklinePoints(samples.map((x) => num(x.cpuPercent)), CHART_WIDTH, CHART_HEIGHT, 100),
    memPoints: sparklinePoints(samples.map((x) => num(x.memUsedPercent)), CHART_WIDTH, CHART_HEIGHT, 100),
    width: CHART_WIDTH,
    height: CHART_HEIGHT
  }
}

function feedView (events: readonly TickerEvent[], status: TickerEvent | undefined, now: number): Plain {
  const items = [...events].reverse().map((event) => {
    const item = asObject(event.data)
    const published = Date.parse(str(item.published))
    const when = Number.isNaN(published) ? event.time : published
    const link = str(item.link)
    return {
      id: event.id,
      title: str(item.title) || '(untitled)',
      link: /^https?:\/\//.test(link) ? link : null,
      source: str(item.source),
      whenIso: iso(when),
      age: formatAge(now - when)
    }
  })
  const s = status === undefined ? undefined : asObject(status.data)
  return {
    items,
    error: s?.state === 'error' ? { reason: str(s.reason), since: str(s.lastSuccessAt) || null } : null
  }
}

const GENERIC_MAX_CHARS = 4000

function genericJson (data: unknown): string {
  const text = JSON.stringify(data, null, 2)
  return text.length > GENERIC_MAX_CHARS ? `${text.slice(0, GENERIC_MAX_CHARS)}\n…` : text
}
