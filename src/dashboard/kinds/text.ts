/** text: one field as plain text, escaped, wrapped and cut to a number of lines. */
import { fieldAt, textOf } from '../fields.ts'
import type { TileKindSpec } from './types.ts'

const DEFAULT_LINES = 3
/** About what a line holds at most on a wide tile; the stylesheet clamps to the lines exactly. */
const CHARS_PER_LINE = 120

export const text: TileKindSpec = {
  settings: ['field', 'lines'],
  required: ['field'],
  keep: () => 1,
  view ({ tile, events }) {
    const { field = '', lines = DEFAULT_LINES } = tile.options
    const value = textOf(fieldAt(events(tile.topic).at(-1)?.data, field))
    const max = lines * CHARS_PER_LINE
    return {
      text: {
        value: value === undefined ? null : value.length > max ? `${value.slice(0, max)}…` : value,
        lines
      }
    }
  }
}
