/**
 * list: an array field as rows (a label and a value each), or, with no field, the topic's last
 * events as a log, newest first.
 */
import { asNumber, fieldAt, textOf } from '../fields.ts'
import { formatAge, formatValue } from '../format.ts'
import type { TickerEvent } from '../../bus/index.ts'
import { iso } from './data.ts'
import type { TileKindSpec } from './types.ts'

const DEFAULT_LIMIT = 10
const MAX_TEXT = 200

const cut = (text: string): string => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text)

/** A log row's text, made once per event and value path: a large payload is not written out again on every render. */
const rowTexts = new WeakMap<TickerEvent, Map<string, string>>()

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
          rows: [...kept].reverse().slice(0, limit).map((event) => {
            let texts = rowTexts.get(event)
            if (texts === undefined) rowTexts.set(event, texts = new Map())
            let text = texts.get(value ?? '')
            if (text === undefined) texts.set(value ?? '', text = shown(event.data))
            return { label: null, whenIso: iso(event.time), age: formatAge(now - event.time), value: text }
          })
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
