/**
 * list: an array field as rows (a label and a value each), or, with no field, the topic's last
 * events as a log, newest first.
 */
import { asNumber, fieldAt, textOf } from '../fields.ts'
import { formatAge, formatValue } from '../format.ts'
import { iso } from './data.ts'
import type { TileKindSpec } from './types.ts'

const DEFAULT_LIMIT = 10
const MAX_TEXT = 200

const cut = (text: string): string => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text)

export const list: TileKindSpec = {
  settings: ['field', 'label', 'value', 'limit', 'unit', 'format'],
  keep: (tile) => (tile.field === undefined ? tile.limit ?? DEFAULT_LIMIT : 1),
  view ({ tile, events, now }) {
    const { field, label, value, limit = DEFAULT_LIMIT, format, unit } = tile.options
    const shown = (item: unknown): string => {
      const picked = value === undefined ? item : fieldAt(item, value)
      const n = asNumber(picked)
      if (typeof picked === 'number' && n !== undefined) return formatValue(n, format, unit)
      return cut(textOf(picked) ?? (picked === undefined ? '' : JSON.stringify(picked) ?? ''))
    }
    const kept = events(tile.topic)
    if (field === undefined) {
      return {
        list: {
          log: true,
          rows: [...kept].reverse().slice(0, limit).map((event) => ({
            label: null,
            whenIso: iso(event.time),
            age: formatAge(now - event.time),
            value: shown(event.data)
          }))
        }
      }
    }
    const items = fieldAt(kept.at(-1)?.data, field)
    const rows = Array.isArray(items)
      ? items.slice(0, limit).map((item) => ({
        label: cut(textOf(label === undefined ? item : fieldAt(item, label)) ?? ''),
        value: label === undefined && value === undefined ? '' : shown(item)
      }))
      : []
    return { list: { log: false, rows, missing: !Array.isArray(items) } }
  }
}
