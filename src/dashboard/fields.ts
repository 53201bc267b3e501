/**
 * Field paths: where a tile finds its value in a payload. `disks.0.usedPercent` walks object
 * keys and array indexes; only a payload's own keys count (never `constructor` or `__proto__`
 * from a prototype). Anything missing or of the wrong type is `undefined`: a tile then shows a
 * quiet "no value". Pure.
 */

/** The value at `path` in `data`, or undefined. */
export function fieldAt (data: unknown, path: string): unknown {
  let value = data
  for (const key of path.split('.')) {
    if (Array.isArray(value)) {
      if (!/^(0|[1-9][0-9]{0,8})$/.test(key)) return undefined
      value = value[Number(key)]
    } else if (typeof value === 'object' && value !== null && Object.hasOwn(value, key)) {
      value = (value as Record<string, unknown>)[key]
    } else {
      return undefined
    }
  }
  return value
}

/** A finite number at `path` (numeric strings count, as in "42.5"), or undefined. */
export function numberAt (data: unknown, path: string): number | undefined {
  return asNumber(fieldAt(data, path))
}

export function asNumber (value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  if (typeof value === 'string' && value.trim() !== '' && value.length <= 64) {
    const parsed = Number(value)
    return Number.isFinite(parsed) ? parsed : undefined
  }
  return undefined
}

/** Text for a value shown as text: strings as they are, numbers and booleans written out; else undefined. */
export function textOf (value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value === 'boolean') return String(value)
  return undefined
}
