/**
 * number: one value, large, coloured by thresholds, with its change against the previous event
 * (or against the value `changeOverSeconds` before the newest).
 */
import type { TickerEvent } from '../../bus/index.ts'
import { numberAt } from '../fields.ts'
import { changeOf, formatDuration, formatValue, levelOf } from '../format.ts'
import type { TileKindSpec } from './types.ts'

/** Most events a number tile keeps for its change over time. */
const MAX_KEPT = 10_000

/** The event to compare the newest with: the one before it, or the newest one at least `seconds` older. */
export function baseline (events: readonly TickerEvent[], seconds?: number): TickerEvent | undefined {
  const latest = events.at(-1)
  if (latest === undefined) return undefined
  if (seconds === undefined) return events.at(-2)
  const cutoff = latest.time - seconds * 1000
  for (let i = events.length - 2; i >= 0; i--) if ((events[i] as TickerEvent).time <= cutoff) return events[i]
  return undefined
}

export const number: TileKindSpec = {
  settings: ['field', 'unit', 'format', 'thresholds', 'changeOverSeconds'],
  required: ['field'],
  // A change over time needs whatever the topic keeps, however often it publishes (the events
  // are the bus's own: keeping them costs a reference each).
  keep: (tile, _ui, capacity) => (tile.changeOverSeconds === undefined ? 2 : Math.max(2, Math.min(capacity, MAX_KEPT))),
  check: (tile) => thresholdProblems(tile.thresholds),
  view ({ tile, events }) {
    const { field = '', format, unit, thresholds, changeOverSeconds } = tile.options
    const kept = events(tile.topic)
    const value = numberAt(kept.at(-1)?.data, field)
    const before = baseline(kept, changeOverSeconds)
    const change = changeOf(value, before === undefined ? undefined : numberAt(before.data, field), format, unit)
    return {
      number: {
        value: formatValue(value, format, unit),
        missing: value === undefined,
        level: thresholds === undefined ? null : levelOf(value, thresholds),
        change: change === undefined ? null : { ...change, since: changeOverSeconds === undefined ? 'the previous value' : formatDuration(changeOverSeconds) + ' before' }
      }
    }
  }
}

/** Thresholds in the order their direction needs: above, warn ≤ critical; below, warn ≥ critical. */
export function thresholdProblems (thresholds: { warn: number, critical: number, direction?: 'above' | 'below' } | undefined): string[] {
  if (thresholds === undefined) return []
  const below = thresholds.direction === 'below'
  const ordered = below ? thresholds.warn >= thresholds.critical : thresholds.warn <= thresholds.critical
  return ordered
    ? []
    : [`thresholds: with direction ${below ? 'below' : 'above'}, warn (${thresholds.warn}) must be ${below ? 'at or above' : 'at or below'} critical (${thresholds.critical})`]
}
