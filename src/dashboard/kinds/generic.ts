/** generic: any topic's latest payload as indented JSON (escaped by the partial), cut at a size a tile can show. */
import type { TileKindSpec } from './types.ts'

const MAX_CHARS = 4000

export const generic: TileKindSpec = {
  settings: [],
  keep: () => 1,
  view ({ tile, events }) {
    const latest = events(tile.topic).at(-1)
    if (latest === undefined) return { json: null }
    const text = JSON.stringify(latest.data, null, 2)
    return { json: text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}\n…` : text }
  }
}
