/**
 * The geometry of a time-series chart, drawn by the server as SVG (views/partials/chart.eta):
 * axes with nice ticks, one line per series, the current value of each in a legend, a native
 * tooltip per sample, and a text alternative. Rendered once per event for every subscriber, it
 * needs no script and no stylesheet: colours are SVG attributes that our CSS may override. Pure.
 */
import type { NumberFormat } from '../config/schema.ts'
import { formatDuration, formatValue, round } from './format.ts'

export const CHART = { width: 320, height: 120, left: 40, right: 6, top: 8, bottom: 18 } as const
/** Series colours, light theme (the dark theme's come from CSS). */
export const SERIES_COLOURS = ['#0b62c4', '#b3361f', '#17803d', '#8a4fc4', '#9a5b00', '#0f7f86'] as const

export interface Sample { readonly time: number, readonly values: ReadonlyArray<number | undefined> }

export interface ChartInput {
  readonly series: readonly string[]
  /** Oldest first. */
  readonly samples: readonly Sample[]
  readonly min?: number
  readonly max?: number
  readonly format?: NumberFormat
  readonly unit?: string
  /** Grid units the tile spans: a wider tile gets a wider drawing, so its text keeps its size. */
  readonly span?: number
}

export interface ChartModel {
  readonly width: number
  readonly height: number
  readonly plot: { readonly x: number, readonly y: number, readonly width: number, readonly height: number }
  readonly lines: ReadonlyArray<{ readonly name: string, readonly colour: string, readonly index: number, readonly points: string, readonly current: string }>
  readonly ticks: ReadonlyArray<{ readonly y: number, readonly label: string }>
  readonly xLabels: { readonly start: string, readonly end: string }
  /** One band per sample, with what its tooltip says. */
  readonly bands: ReadonlyArray<{ readonly x: number, readonly width: number, readonly text: string }>
  readonly label: string
  readonly empty: boolean
}

/** Most ticks an axis gets, whatever the range (a bound, not a target). */
const MAX_TICKS = 20

/**
 * About `count` round tick values from lo to hi (1, 2 or 5 times a power of ten apart). Counted
 * by index, never by adding a step to a value: near the limits of floating point a step can be
 * smaller than the gap between two numbers, and `v += step` would never move.
 */
export function niceTicks (lo: number, hi: number, count = 4): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) return []
  if (hi === lo) return [lo]
  const rough = (hi - lo) / Math.max(1, count)
  if (!Number.isFinite(rough) || rough <= 0) return [lo, hi]
  const power = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power
  const first = Math.ceil(lo / step)
  const span = Math.floor(hi / step) - first
  if (!Number.isFinite(span) || span < 0 || span > MAX_TICKS) return [lo, hi]
  const ticks: number[] = []
  for (let i = 0; i <= span; i++) ticks.push(Number(((first + i) * step).toPrecision(12)))
  return [...new Set(ticks)]
}

/**
 * The y-range: fixed where config says, else fitted to the data and widened to round ticks. A
 * range too narrow to draw (one value, or values equal but for float noise) is widened around
 * it; one too wide for doubles is the largest that is not.
 */
export function yRange (values: readonly number[], min?: number, max?: number): [number, number] {
  let lo = min ?? Math.min(...values)
  let hi = max ?? Math.max(...values)
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [min ?? 0, max ?? 1]
  if (hi - lo <= Math.max(Math.abs(lo), Math.abs(hi)) * 1e-9) {
    const pad = Math.max(1, Math.abs(hi) * 0.01)
    if (min === undefined) lo -= pad
    if (max === undefined || hi <= lo) hi = lo + 2 * pad
  }
  if (!Number.isFinite(hi - lo)) return [lo / 2, hi / 2]
  if (min === undefined || max === undefined) {
    const ticks = niceTicks(lo, hi)
    const step = ticks.length > 1 ? (ticks[1] as number) - (ticks[0] as number) : 0
    if (step > 0) {
      if (min === undefined) lo = Number((Math.floor(lo / step) * step).toPrecision(12))
      if (max === undefined) hi = Number((Math.ceil(hi / step) * step).toPrecision(12))
    }
  }
  return [lo, hi]
}

const clockTime = (ms: number): string => new Date(ms).toISOString().slice(11, 19)

export function chartModel (input: ChartInput): ChartModel {
  const { height, left, right, top, bottom } = CHART
  const width = CHART.width * Math.max(1, input.span ?? 1)
  const plot = { x: left, y: top, width: width - left - right, height: height - top - bottom }
  const { samples, series, format = {}, unit } = input
  const values = samples.flatMap((s) => s.values.filter((v): v is number => v !== undefined))
  const [lo, hi] = yRange(values, input.min, input.max)
  const first = samples[0]?.time ?? 0
  const last = samples.at(-1)?.time ?? 0
  const span = last - first
  const xOf = (time: number, i: number): number => plot.x + (span > 0 ? (time - first) / span : samples.length > 1 ? i / (samples.length - 1) : 1) * plot.width
  const yOf = (v: number): number => plot.y + plot.height - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * plot.height
  const write = (v: number | undefined): string => formatValue(v, format, unit)
  const lines = series.map((name, index) => {
    const points = samples.flatMap((s, i) => {
      const v = s.values[index]
      return v === undefined ? [] : [`${round(xOf(s.time, i))},${round(yOf(v))}`]
    }).join(' ')
    const current = [...samples].reverse().find((s) => s.values[index] !== undefined)?.values[index]
    return { name, colour: SERIES_COLOURS[index % SERIES_COLOURS.length] as string, index, points, current: write(current) }
  })
  const ticks = niceTicks(lo, hi).filter((v) => v >= lo && v <= hi).map((v) => ({ y: round(yOf(v)), label: formatValue(v, format) }))
  const xs = samples.map((s, i) => xOf(s.time, i))
  const bands = samples.map((s, i) => {
    const from = i === 0 ? plot.x : ((xs[i - 1] as number) + (xs[i] as number)) / 2
    const to = i === samples.length - 1 ? plot.x + plot.width : ((xs[i] as number) + (xs[i + 1] as number)) / 2
    const text = [`${clockTime(s.time)} UTC`, ...series.map((name, j) => `${name} ${write(s.values[j])}`)].join(' · ')
    return { x: round(from), width: round(Math.max(0, to - from)), text }
  })
  const over = span > 0 ? `, over the last ${formatDuration(span / 1000)}` : ''
  return {
    width,
    height,
    plot,
    lines,
    ticks,
    xLabels: { start: span >= 1000 ? `−${formatDuration(span / 1000)}` : '', end: samples.length > 0 ? clockTime(last) : '' },
    bands,
    label: samples.length === 0
      ? 'Chart: no samples yet'
      : `Chart of ${series.join(', ')}${over}; now ${lines.map((l) => `${l.name} ${l.current}`).join(', ')}`,
    empty: samples.length === 0
  }
}
