/** Formatting for tiles: units people read at a glance on a wall screen. Pure. */

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB']

/** 1536 → "1.5 KB" (powers of 1024). */
export function formatBytes (bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–'
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${BYTE_UNITS[unit]}`
}

export function formatPercent (percent: number): string {
  return Number.isFinite(percent) ? `${Math.round(percent)} %` : '–'
}

/** Milliseconds to "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function formatAge (ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86_400)} d ago`
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

const round = (n: number): number => Math.round(n * 10) / 10
