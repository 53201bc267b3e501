/** What every tile kind provides: one file per kind here, one Eta partial per kind in views/partials/tiles. */
import type { TickerEvent } from '../../bus/index.ts'
import type { Config, TileConfig, TileKind } from '../../config/schema.ts'

/** A tile as config and its producer make it. */
export interface TileDefinition {
  /** Names the tile on its page and in a dashboard's stream (the SSE event that updates it). */
  readonly id: string
  /** The topic the tile is named after. */
  readonly topic: string
  readonly kind: TileKind
  readonly title: string
  /** Every topic whose events change the tile (a feed tile also follows its status topic). */
  readonly topics: readonly string[]
  /** Its settings, as in config (`dashboards.<name>.tiles.<i>`). */
  readonly options: Readonly<TileConfig>
}

export type ViewModel = Record<string, unknown>
export type UiConfig = Config['ui']

export interface ViewInput {
  readonly tile: TileDefinition
  /** The events kept of a topic the tile follows, oldest first. */
  readonly events: (topic: string) => readonly TickerEvent[]
  readonly now: number
  readonly ui: UiConfig
}

export interface TileKindSpec {
  /** The settings this kind reads besides topic, title, kind, width and height. */
  readonly settings: ReadonlyArray<keyof TileConfig>
  /** The settings it cannot do without. */
  readonly required?: ReadonlyArray<keyof TileConfig>
  /** Events of the tile's own topic it needs to draw itself (`capacity`: all the topic keeps). */
  keep (tile: Readonly<TileConfig>, ui: UiConfig, capacity: number): number
  /** Problems with its settings that the schema cannot see, each a sentence. */
  check? (tile: Readonly<TileConfig>): string[]
  /** What its partial renders; missing or mistyped data gives a quiet "no value", never a throw. */
  view (input: ViewInput): ViewModel
}
