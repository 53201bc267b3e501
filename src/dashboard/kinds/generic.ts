/** generic: any topic's latest payload as indented JSON (escaped by the partial), cut at a size a tile can show. */
import type { TickerEvent } from '../../bus/index.ts'
import type { TileKindSpec } from './types.ts'

const MAX_CHARS = 4000
/** The text of each event, made once: a large payload is not written out again on every render. */
const texts = new WeakMap<TickerEvent, string>()

export const generic: TileKindSpec = {
  settings: [],
  keep: () => 1,
  view ({ tile, events }) {
    const latest = events(tile.topic).at(-1)
    if (latest === undefined) return { json: null }
    let json = texts.get(latest)
    if (json === undefined) {
      const text = JSON.stringify(latest.data, null, 2)
      texts.set(latest, json = text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}\n…` : text)
    }
    return { json }
  }
}
