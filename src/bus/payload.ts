/**
 * Payloads: what the bus accepts as an event's data, checked once at publish, so that every
 * reader (history API, streams, tiles) can later serialise and render it. Shared by every backend.
 */
import { DataNotJsonError, DataTooDeepError } from '../errors.ts'

/**
 * Deepest nesting of arrays and objects in a payload. Readers add a few levels of their own (the
 * history API wraps events in a page) and some walk the data recursively; far below where any
 * of them would run out of stack.
 */
export const MAX_DATA_DEPTH = 64

/** Deepest nesting of arrays and objects in a JSON text (strings skipped). */
export function jsonDepth (json: string): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) { // [ {
      if (++depth > deepest) deepest = depth
    } else if (c === 0x5d || c === 0x7d) { // ] }
      depth--
    }
  }
  return deepest
}

/** `data` as the JSON that goes on the wire; throws DataNotJsonError or DataTooDeepError. */
export function encodePayload (data: unknown): string {
  let json: string | undefined
  try {
    json = JSON.stringify(data)
  } catch (err) {
    // Running out of stack while serialising is nesting far too deep (where depends on the Node line).
    if (err instanceof RangeError) throw new DataTooDeepError(MAX_DATA_DEPTH)
    throw new DataNotJsonError((err as Error).message)
  }
  if (json === undefined) throw new DataNotJsonError('not undefined or a function')
  // A text this short cannot nest deeper (each level takes two characters).
  if (json.length > 2 * MAX_DATA_DEPTH && jsonDepth(json) > MAX_DATA_DEPTH) throw new DataTooDeepError(MAX_DATA_DEPTH)
  return json
}
