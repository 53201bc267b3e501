/**
 * The dashboard: tiles for topics, drawn by the server. Pages render tiles from the events kept
 * here, and the `html` stream formats send each event as the rendered body of every tile it
 * changes, rendered once per event whatever the number of subscribers:
 * - `html`: a topic's own tile, named after the topic (embeds, htmx, `format=html`);
 * - `html:<dashboard>`: every tile of one dashboard that the event changes, each named by its id.
 * The transport (src/sse) knows these only as StreamFormats.
 */
import type { Eta } from 'eta'
import type { Bus, TickerEvent } from '../bus/index.ts'
import type { Config } from '../config/schema.ts'
import { encodeFrameText } from '../sse/frame.ts'
import type { StreamFormat } from '../sse/formats.ts'
import { Catalogue } from './catalogue.ts'
import { formatAge } from './format.ts'
import { iso } from './kinds/data.ts'
import { KINDS, type TileDefinition, type ViewModel } from './kinds/index.ts'
import { TopicEvents } from './store.ts'
import { tileSet, type TileSet } from './tile-set.ts'

export class Dashboard {
  readonly catalogue: Catalogue
  readonly #config: Readonly<Config>
  readonly #eta: Eta
  readonly #now: () => number
  readonly #store: TopicEvents
  readonly #formats = new Map<string, StreamFormat>()
  #renders = 0

  constructor (config: Readonly<Config>, eta: Eta, now: () => number = Date.now) {
    this.#config = config
    this.#eta = eta
    this.#now = now
    this.catalogue = new Catalogue(config)
    this.#store = new TopicEvents((topic) => this.catalogue.keep(topic))
    const own = tileSet(this.catalogue.ownTiles(), (topic) => this.catalogue.ofTopic(topic))
    this.#formats.set('html', this.#format('html', own))
    for (const name of Object.keys(config.dashboards)) {
      this.#formats.set(`html:${name}`, this.#format(`html:${name}`, tileSet(this.catalogue.dashboard(name) ?? [])))
    }
  }

  /** Tile bodies rendered so far (pages and stream frames): once per event per tile for streams. */
  get renders (): number {
    return this.#renders
  }

  /** Topics that hold tile state (have had an event). Reading never adds one. */
  get size (): number {
    return this.#store.size
  }

  /** Forgets what tiles hold of `topic` (dropped by the bus). */
  forget (topic: string): void {
    this.#store.forget(topic)
  }

  /** Follows the bus (see TopicEvents.follow); `filled` settles once history is in. */
  follow (bus: Bus, onError: (err: unknown) => void): () => void {
    return this.#store.follow(bus, onError)
  }

  get filled (): Promise<void> {
    return this.#store.filled
  }

  /** The format of a topic's own tiles. */
  get htmlFormat (): StreamFormat {
    return this.#formats.get('html') as StreamFormat
  }

  /** The format of dashboard `name`'s stream, if there is such a dashboard. */
  dashboardFormat (name: string): StreamFormat | undefined {
    return this.catalogue.dashboard(name) === undefined ? undefined : this.#formats.get(`html:${name}`)
  }

  /** Every topic dashboard `name` shows. */
  dashboardTopics (name: string): string[] {
    return [...new Set((this.catalogue.dashboard(name) ?? []).flatMap((tile) => tile.topics))]
  }

  /** What the tile's partial renders, as things are now. */
  view (tile: TileDefinition): ViewModel {
    const latest = this.#store.events(tile.topic).at(-1)
    const now = this.#now()
    const input = { tile, events: (topic: string) => this.#store.events(topic), now, ui: this.#config.ui }
    return {
      id: tile.id,
      topic: tile.topic,
      kind: tile.kind,
      title: tile.title,
      width: tile.options.width ?? 1,
      height: tile.options.height ?? 1,
      updatedIso: latest === undefined ? null : iso(latest.time),
      updatedAge: latest === undefined ? null : formatAge(now - latest.time),
      ...KINDS[tile.kind].view(input)
    }
  }

  /** The body of `tile`, as HTML, as it is now. */
  renderBody (tile: TileDefinition): string {
    this.#renders++
    return this.#eta.render('partials/tile-body', this.view(tile))
  }

  /**
   * A format of `tiles`: the frame of an event is the body of each tile it changes, as one SSE
   * event per tile named by its id. The event is applied first (idempotent), so a frame never
   * shows a tile older than its event, whoever saw the event first. A tile's body is its whole
   * state, so a replay sends one event per group of topics (see tile-set.ts), whose frame draws
   * every tile of the group once: a client that connects or resumes gets each tile once.
   */
  #format (name: string, tiles: TileSet): StreamFormat {
    const frames = new WeakMap<TickerEvent, Buffer>()
    const replayFrames = new WeakMap<TickerEvent, Buffer>()
    const draw = (event: TickerEvent, shown: readonly TileDefinition[], cache: WeakMap<TickerEvent, Buffer>): Buffer => {
      let frame = cache.get(event)
      if (frame === undefined) {
        this.#store.apply(event)
        frame = Buffer.from(shown.map((tile) => encodeFrameText(tile.id, this.renderBody(tile), event.id)).join(''))
        cache.set(event, frame)
      }
      return frame
    }
    return {
      name,
      replayKey: (event) => tiles.groupOf(event.topic),
      frame: (event) => draw(event, tiles.following(event.topic), frames),
      replayFrame: (event) => draw(event, tiles.tilesOf(tiles.groupOf(event.topic)), replayFrames)
    }
  }
}

export type { TileDefinition } from './kinds/index.ts'
export { tileProblems, inferKind } from './catalogue.ts'
