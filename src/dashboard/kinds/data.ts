/** Reading untrusted payloads in view models: wrong types become empty values, never throws. */
export type Plain = Record<string, unknown>
export const asObject = (value: unknown): Plain => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Plain : {})
export const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : NaN)
export const str = (value: unknown): string => (typeof value === 'string' ? value : '')
export const iso = (ms: number): string => new Date(ms).toISOString()
