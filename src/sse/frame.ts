/**
 * SSE frame encoding (the EventSource wire format). Pure.
 *
 *     id: <id>\n
 *     event: <name>\n
 *     data: <line 1>\n
 *     data: <line 2>\n
 *     \n
 *
 * `id:` and `event:` values must not contain CR, LF or NUL (they would start new fields);
 * data is split into one `data:` line per line, whatever the line ending, so the client's
 * rejoin with "\n" gives back the text (with CR and CRLF read as LF, as EventSource does).
 */
import type { TickerEvent } from '../bus/index.ts'

const FIELD_BREAKERS = /[\r\n\0]/
const LINE_BREAK = /\r\n|\r|\n/

function assertFieldValue (field: string, value: string): void {
  if (FIELD_BREAKERS.test(value)) throw new TypeError(`SSE ${field} must not contain CR, LF or NUL`)
}

/** The text of one event frame. `id` is omitted when undefined. */
export function encodeFrameText (name: string, data: string, id?: string): string {
  assertFieldValue('event', name)
  let text = ''
  if (id !== undefined) {
    assertFieldValue('id', id)
    text += `id: ${id}\n`
  }
  text += `event: ${name}\n`
  for (const line of data.split(LINE_BREAK)) text += `data: ${line}\n`
  return text + '\n'
}

const frames = new WeakMap<TickerEvent, Buffer>()

/**
 * The frame of a bus event, encoded once and cached for the event's lifetime,
 * so live fan-out and every replay share the same bytes.
 */
export function eventFrame (event: TickerEvent): Buffer {
  let frame = frames.get(event)
  if (frame === undefined) {
    frame = Buffer.from(encodeFrameText(event.topic, event.json, event.id))
    frames.set(event, frame)
  }
  return frame
}

/**
 * A control event (such as `reset`). Without `id` the client's cursor stays where it was; with
 * one, the client resumes from there.
 */
export function controlFrame (name: string, data: unknown, id?: string): Buffer {
  return Buffer.from(encodeFrameText(name, JSON.stringify(data), id))
}

/** `retry:` tells the client how long to wait before reconnecting; digits only. */
export function retryFrame (ms: number): Buffer {
  if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`retry must be a non-negative integer, got ${ms}`)
  return Buffer.from(`retry: ${ms}\n\n`)
}

/** A comment line; clients ignore it, proxies see traffic. */
export function commentFrame (text: string): Buffer {
  assertFieldValue('comment', text)
  return Buffer.from(`: ${text}\n\n`)
}

const CRLF = Buffer.from('\r\n')
const chunks = new WeakMap<Buffer, Buffer>()

/**
 * `bytes` as one HTTP/1.1 chunk (`<hex length>\r\n<bytes>\r\n`), the framing a chunked response
 * needs on the socket. Cached per buffer, so an event's chunk is built once however many
 * streams it goes to.
 */
export function httpChunk (bytes: Buffer): Buffer {
  let chunk = chunks.get(bytes)
  if (chunk === undefined) {
    chunk = joinAsChunk([bytes]).chunk
    chunks.set(bytes, chunk)
  }
  return chunk
}

/**
 * `parts` joined, both as they are and as one HTTP chunk, with one copy: `bytes` is a view into
 * `chunk`. For bytes written to one stream only (a replay), where caching the chunk buys nothing.
 */
export function joinAsChunk (parts: readonly Buffer[]): { bytes: Buffer, chunk: Buffer } {
  let length = 0
  for (const part of parts) length += part.length
  const head = Buffer.from(`${length.toString(16)}\r\n`)
  const chunk = Buffer.concat([head, ...parts, CRLF], head.length + length + CRLF.length)
  return { bytes: chunk.subarray(head.length, head.length + length), chunk }
}
