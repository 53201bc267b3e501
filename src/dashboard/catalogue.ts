/**
 * The tiles config defines: each dashboard's tiles in order, and the tile that shows a topic on
 * its own (an embed, a `format=html` stream of that topic). Pure: from config only.
 */
import { createHash } from 'node:crypto'
import { feedStatusTopic, type Config, type TileConfig, type TileKind } from '../config/schema.ts'
import { KINDS, type TileDefinition } from './kinds/index.ts'

/** The kind a topic gets when config does not say: from the producer that feeds it. */
function inferKind (topic: string, config: Readonly<Config>): TileKind {
  const { clock, system, feeds } = config.producers
  if (clock.enabled && clock.topic === topic) return 'clock'
  if (system.enabled && system.topic === topic) return 'system'
  if (feeds.some((f) => f.enabled !== false && f.topic === topic)) return 'feed'
  return 'generic'
}

function define (config: Readonly<Config>, id: string, options: Readonly<TileConfig>): TileDefinition {
  const { topic } = options
  const kind = options.kind ?? inferKind(topic, config)
  const statusTopic = feedStatusTopic(topic)
  return {
    id,
    topic,
    kind,
    title: options.title ?? config.topics[topic]?.title ?? topic,
    topics: kind === 'feed' && config.topics[statusTopic] !== undefined ? [topic, statusTopic] : [topic],
    options
  }
}

export class Catalogue {
  readonly #config: Readonly<Config>
  readonly #dashboards = new Map<string, readonly TileDefinition[]>()
  /** Topic → the tile that shows it on its own, for topics config names. */
  readonly #ofTopic = new Map<string, TileDefinition>()
  /** Topic → events of it that some tile needs. */
  readonly #keep = new Map<string, number>()

  constructor (config: Readonly<Config>) {
    this.#config = config
    for (const [name, dashboard] of Object.entries(config.dashboards)) {
      const tiles = dashboard.tiles.map((options, i) => define(config, `tile-${i}`, options))
      this.#dashboards.set(name, tiles)
      // A topic's own tile is the first a dashboard shows it with.
      for (const tile of tiles) if (!this.#ofTopic.has(tile.topic)) this.#ofTopic.set(tile.topic, { ...tile, id: tile.topic })
    }
    for (const feed of config.producers.feeds) {
      if (feed.enabled !== false && !this.#ofTopic.has(feed.topic)) this.#ofTopic.set(feed.topic, define(config, feed.topic, { topic: feed.topic }))
    }
    // A feed's status topic is shown by its feed's tile.
    for (const tile of [...this.#ofTopic.values()]) {
      for (const topic of tile.topics) if (topic !== tile.topic && !this.#ofTopic.has(topic)) this.#ofTopic.set(topic, tile)
    }
    for (const topic of Object.keys(config.topics)) {
      if (!this.#ofTopic.has(topic)) this.#ofTopic.set(topic, define(config, topic, { topic }))
    }
    for (const tile of [...this.#ofTopic.values(), ...[...this.#dashboards.values()].flat()]) {
      for (const topic of tile.topics) {
        const capacity = config.topics[topic]?.capacity ?? config.bus.topicDefaults.capacity
        const need = topic === tile.topic ? KINDS[tile.kind].keep(tile.options, config.ui, capacity) : 1
        this.#keep.set(topic, Math.max(need, this.#keep.get(topic) ?? 1))
      }
    }
  }

  /**
   * A digest of dashboard `name`'s tiles: a page rendered before a deploy that changed them
   * streams with the old one, and is told to reload (tile ids are positions).
   */
  layoutOf (name: string): string {
    return createHash('sha256').update(JSON.stringify(this.#config.dashboards[name]?.tiles ?? [])).digest('hex').slice(0, 12)
  }

  /** The tiles of dashboard `name`, in order; undefined when there is none of that name. */
  dashboard (name: string): readonly TileDefinition[] | undefined {
    return Object.hasOwn(this.#config.dashboards, name) ? this.#dashboards.get(name) : undefined
  }

  /**
   * The tile that shows `topic` on its own: the first a dashboard shows it with, else one of the
   * kind its producer makes; for a feed's status topic, the feed's tile.
   */
  ofTopic (topic: string): TileDefinition {
    return this.#ofTopic.get(topic) ?? define(this.#config, topic, { topic })
  }

  /** Every topic's own tile, once each (a feed's status topic shares its feed's). */
  ownTiles (): TileDefinition[] {
    return [...new Set(this.#ofTopic.values())]
  }

  /** Every topic the tiles showing `topics` on their own render (a feed tile also shows its status topic). */
  topicsOf (topics: readonly string[]): string[] {
    return [...new Set(topics.flatMap((t) => this.ofTopic(t).topics))]
  }

  /** How many of `topic`'s newest events the tiles need. */
  keep (topic: string): number {
    return this.#keep.get(topic) ?? 1
  }
}

/** Config problems of a dashboard tile's settings, each a sentence naming it. */
export function tileProblems (field: string, tile: Readonly<TileConfig>, kind: TileKind): string[] {
  const spec = KINDS[kind]
  const problems: string[] = []
  for (const setting of spec.required ?? []) {
    if (tile[setting] === undefined) problems.push(`${field}: a ${kind} tile needs \`${setting}\``)
  }
  const common = new Set(['topic', 'title', 'kind', 'width', 'height'])
  for (const setting of Object.keys(tile)) {
    if (!common.has(setting) && !(spec.settings as readonly string[]).includes(setting)) {
      problems.push(`${field}.${setting}: a ${kind} tile does not use \`${setting}\``)
    }
  }
  for (const problem of spec.check?.(tile) ?? []) problems.push(`${field}: ${problem}`)
  return problems
}

export { inferKind }
