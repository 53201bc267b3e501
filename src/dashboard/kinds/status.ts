/** status: a field's value mapped to ok / warn / critical / unknown, shown with its label. */
import type { Level } from '../../config/schema.ts'
import { fieldAt, textOf } from '../fields.ts'
import { LEVEL_COLOURS } from './gauge.ts'
import type { TileKindSpec } from './types.ts'

const LEVEL_WORDS: Readonly<Record<Level, string>> = { ok: 'OK', warn: 'Warning', critical: 'Critical', unknown: 'Unknown' }

export const status: TileKindSpec = {
  settings: ['field', 'states', 'labels'],
  required: ['field'],
  keep: () => 1,
  view ({ tile, events }) {
    const { field = '', states = {}, labels = {} } = tile.options
    const raw = textOf(fieldAt(events(tile.topic).at(-1)?.data, field))
    const level: Level = raw !== undefined && Object.hasOwn(states, raw) ? states[raw] as Level : 'unknown'
    const label = raw === undefined ? 'No value' : Object.hasOwn(labels, raw) ? labels[raw] as string : raw
    return { status: { level, word: LEVEL_WORDS[level], label, colour: LEVEL_COLOURS[level] } }
  }
}
