/** chart: a time series of one or more numeric fields, filled from the buffer at first paint and extended live. */
import { chartModel } from '../chart-svg.ts'
import { numberAt } from '../fields.ts'
import type { TileKindSpec } from './types.ts'

export const chart: TileKindSpec = {
  settings: ['fields', 'min', 'max', 'unit', 'format', 'points'],
  required: ['fields'],
  keep: (tile, ui) => tile.points ?? ui.chartPoints,
  check: (tile) => tile.min !== undefined && tile.max !== undefined && tile.min >= tile.max
    ? [`min (${tile.min}) must be below max (${tile.max})`]
    : [],
  view ({ tile, events }) {
    const { fields = [], min, max, format, unit, points } = tile.options
    const samples = events(tile.topic).slice(-(points ?? Infinity)).map((event) => ({
      time: event.time,
      values: fields.map((field) => numberAt(event.data, field))
    }))
    return {
      chart: chartModel({
        series: fields,
        samples,
        span: tile.options.width ?? 1,
        ...(min === undefined ? {} : { min }),
        ...(max === undefined ? {} : { max }),
        ...(format === undefined ? {} : { format }),
        ...(unit === undefined ? {} : { unit })
      })
    }
  }
}
