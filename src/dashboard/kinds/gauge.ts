/** gauge: one value on a scale from min to max, as an arc coloured by thresholds. */
import { numberAt } from '../fields.ts'
import { formatValue, levelOf, round } from '../format.ts'
import { thresholdProblems } from './number.ts'
import type { TileKindSpec } from './types.ts'

export const LEVEL_COLOURS = { ok: '#17803d', warn: '#9a5b00', critical: '#b3261e', unknown: '#565c66' } as const

export const gauge: TileKindSpec = {
  settings: ['field', 'unit', 'format', 'thresholds', 'min', 'max'],
  required: ['field'],
  keep: () => 1,
  check: (tile) => [
    ...((tile.min ?? 0) >= (tile.max ?? 100) ? [`min (${tile.min ?? 0}) must be below max (${tile.max ?? 100})`] : []),
    ...thresholdProblems(tile.thresholds)
  ],
  view ({ tile, events }) {
    const { field = '', format, unit, thresholds, min = 0, max = 100 } = tile.options
    const value = numberAt(events(tile.topic).at(-1)?.data, field)
    const level = value === undefined ? 'unknown' : thresholds === undefined ? 'ok' : levelOf(value, thresholds)
    const share = value === undefined ? 0 : Math.min(1, Math.max(0, (value - min) / (max - min)))
    return {
      gauge: {
        value: formatValue(value, format, unit),
        missing: value === undefined,
        level,
        colour: LEVEL_COLOURS[level],
        /** Of the arc's length 100. */
        filled: round(share * 100),
        min: formatValue(min, format),
        max: formatValue(max, format),
        label: value === undefined ? 'No value' : `${formatValue(value, format, unit)} on a scale from ${formatValue(min, format, unit)} to ${formatValue(max, format, unit)}`
      }
    }
  }
}
