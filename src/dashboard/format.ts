/** Formatting for tiles: units people read at a glance on a wall screen. Pure. */
import type { Level, NumberFormat, Thresholds } from '../config/schema.ts'

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB']

/** What a missing value looks like. */
export const NO_VALUE = '–'

/** 1536 → "1.5 KB" (powers of 1024). */
export function formatBytes (bytes: number, decimals?: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return NO_VALUE
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  const digits = decimals ?? (value >= 100 || unit === 0 ? 0 : 1)
  return `${unit === 0 ? Math.round(value) : value.toFixed(digits)} ${BYTE_UNITS[unit]}`
}

export function formatPercent (percent: number, decimals = 0): string {
  return Number.isFinite(percent) ? `${percent.toFixed(decimals)} %` : NO_VALUE
}

/** Seconds to "42 s", "5 min 3 s", "3 h 5 min", "2 d 4 h": the two largest units. */
export function formatDuration (seconds: number): string {
  if (!Number.isFinite(seconds)) return NO_VALUE
  const sign = seconds < 0 ? '−' : ''
  let s = Math.round(Math.abs(seconds))
  const parts: string[] = []
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['min', 60], ['s', 1]] as const) {
    if (s >= size || (unit === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(s / size)} ${unit}`)
      s %= size
    }
  }
  return sign + parts.slice(0, 2).join(' ')
}

/** Milliseconds to "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function formatAge (ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86_400)} d ago`
}

const numberFormats = new Map<string, Intl.NumberFormat>()
function plain (value: number, decimals: number | undefined): string {
  const key = String(decimals)
  let format = numberFormats.get(key)
  if (format === undefined) {
    format = new Intl.NumberFormat('en', decimals === undefined
      ? { maximumFractionDigits: 2 }
      : { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
    numberFormats.set(key, format)
  }
  return format.format(value)
}

/** A value as a tile writes it, with its unit: "1,234 €", "42 %", "1.5 MB", "3 h 5 min". */
export function formatValue (value: number | undefined, format: NumberFormat = {}, unit?: string): string {
  if (value === undefined || !Number.isFinite(value)) return NO_VALUE
  let text: string
  switch (format.style ?? 'number') {
    case 'bytes': text = formatBytes(value, format.decimals); break
    case 'percent': text = formatPercent(value, format.decimals); break
    case 'duration': text = formatDuration(value); break
    case 'number': text = plain(value, format.decimals)
  }
  return unit === undefined || unit === '' ? text : `${text} ${unit}`
}

/** Where a value stands against thresholds: warn and critical from `warn`/`critical` on (or down to them, `below`). */
export function levelOf (value: number | undefined, thresholds: Thresholds | undefined): Level {
  if (value === undefined) return 'unknown'
  if (thresholds === undefined) return 'ok'
  const below = thresholds.direction === 'below'
  const reaches = (limit: number): boolean => (below ? value <= limit : value >= limit)
  if (reaches(thresholds.critical)) return 'critical'
  if (reaches(thresholds.warn)) return 'warn'
  return 'ok'
}

export interface Change {
  /** up, down or flat. */
  readonly direction: 'up' | 'down' | 'flat'
  /** "+3", "−1.5 %": signed, in the value's format. */
  readonly text: string
  /** For screen readers: "up 3 since 5 min ago". */
  readonly label: string
}

/** The change from `before` to `now`, written in the value's format; undefined when either is missing. */
export function changeOf (now: number | undefined, before: number | undefined, format: NumberFormat = {}, unit?: string): Change | undefined {
  if (now === undefined || before === undefined) return undefined
  const delta = now - before
  const magnitude = formatValue(Math.abs(delta), format, unit)
  if (delta === 0) return { direction: 'flat', text: `±${magnitude}`, label: 'unchanged' }
  const direction = delta > 0 ? 'up' : 'down'
  return { direction, text: `${delta > 0 ? '+' : '−'}${magnitude}`, label: `${direction} ${magnitude}` }
}

/**
 * SVG polyline points for values on a fixed 0..max scale, drawn left to right across `width`,
 * higher values nearer the top: "0,40 10,22.5 20,0".
 */
export function sparklinePoints (values: readonly number[], width: number, height: number, max: number): string {
  if (values.length === 0) return ''
  const step = values.length > 1 ? width / (values.length - 1) : 0
  return values.map((v, i) => {
    const clamped = Math.min(max, Math.max(0, Number.isFinite(v) ? v : 0))
    const y = height - (clamped / max) * height
    return `${round(i * step)},${round(y)}`
  }).join(' ')
}

export const round = (n: number): number => Math.round(n * 10) / 10
