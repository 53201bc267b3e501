/** clock: the clock producer's tick: the time large, the date and zone, other zones below. */
import { asObject, str } from './data.ts'
import type { TileKindSpec } from './types.ts'

export const clock: TileKindSpec = {
  settings: [],
  keep: () => 1,
  view ({ tile, events }) {
    const latest = events(tile.topic).at(-1)
    if (latest === undefined) return { clock: null }
    const tick = asObject(latest.data)
    const zones = Array.isArray(tick.zones) ? tick.zones.map(asObject) : []
    const main = zones[0]
    return {
      clock: {
        time: main === undefined ? str(tick.iso).slice(11, 19) : str(main.time),
        date: main === undefined ? str(tick.iso).slice(0, 10) : str(main.date),
        zone: main === undefined ? 'UTC' : `${str(main.zone)} (${str(main.offset)})`,
        others: zones.slice(1).map((z) => ({ zone: str(z.zone), time: str(z.time).slice(0, 5), offset: str(z.offset) }))
      }
    }
  }
}
