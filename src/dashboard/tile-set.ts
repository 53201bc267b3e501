/**
 * A set of tiles that one stream format draws (a dashboard's, or every topic's own tile): which
 * tiles an event changes, and which topics hang together through the tiles that show them (a
 * feed tile joins a feed's topic and its status topic). A replay sends one event per such group
 * and draws every tile of the group once. Pure.
 */
import type { TileDefinition } from './kinds/index.ts'

export interface TileSet {
  /** The tiles an event of `topic` changes. */
  following (topic: string): readonly TileDefinition[]
  /** The group of `topic`: topics whose tiles overlap share one. */
  groupOf (topic: string): string
  /** Every tile of a group. */
  tilesOf (group: string): readonly TileDefinition[]
}

/** The tile set of `tiles`; `fallback` answers for a topic none of them shows (a topic made at runtime). */
export function tileSet (tiles: readonly TileDefinition[], fallback?: (topic: string) => TileDefinition): TileSet {
  const byTopic = new Map<string, TileDefinition[]>()
  for (const tile of tiles) for (const topic of tile.topics) byTopic.set(topic, [...byTopic.get(topic) ?? [], tile])
  // Union-find over topics: the topics of one tile are one group.
  const parent = new Map<string, string>()
  const root = (topic: string): string => {
    let at = topic
    while (parent.has(at) && parent.get(at) !== at) at = parent.get(at) as string
    return at
  }
  for (const tile of tiles) {
    for (const topic of tile.topics) if (!parent.has(topic)) parent.set(topic, topic)
    const [first, ...rest] = tile.topics.map(root)
    for (const other of rest) if (first !== undefined && other !== first) parent.set(other, first)
  }
  const groups = new Map<string, TileDefinition[]>()
  for (const tile of tiles) {
    const group = root(tile.topics[0] as string)
    const members = groups.get(group) ?? []
    if (!members.includes(tile)) groups.set(group, [...members, tile])
  }
  return {
    following: (topic) => byTopic.get(topic) ?? (fallback === undefined ? [] : [fallback(topic)]),
    groupOf: (topic) => (parent.has(topic) ? root(topic) : topic),
    tilesOf: (group) => groups.get(group) ?? (fallback === undefined ? [] : [fallback(group)])
  }
}
