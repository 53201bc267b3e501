/**
 * A hand-over's reset and replayed events as write-ready slices (see Session.handOver).
 *
 * - Up to `sliceBytes`, one slice, kept on the group and shared with its other sessions that
 *   resume from the same point (a reconnect storm is thousands of those). Plans are built from
 *   the bus's event objects, so "the same point" is compared event by event.
 * - Above it, slices of whole frames made one at a time, as the session asks for the next: a
 *   reader that stalls in a long replay holds the events' list and a slice or two, never a copy
 *   of the history (frames themselves are cached per event and shared).
 */
import type { TickerEvent } from '../bus/index.ts'
import { controlFrame, joinAsChunk } from './frame.ts'
import type { FrameOf } from './fanout.ts'
import type { StreamFormat } from './formats.ts'
import type { Group } from './groups.ts'
import type { Handover } from './handover.ts'
import type { Slice } from './session.ts'

export function replaySlices (group: Group, handover: Handover, frameOf: FrameOf, sliceBytes: number): Iterator<Slice> {
  const { reset, events } = handover
  if (reset === undefined && events.length === 0) return [][Symbol.iterator]()
  const resetJson = reset === undefined ? undefined : JSON.stringify(reset)
  const cached = group.replay
  if (cached !== undefined && cached.reset === resetJson && cached.events.length === events.length &&
    cached.events.every((event, i) => event === events[i])) return [cached.slice][Symbol.iterator]()
  const first = reset === undefined ? [] : [controlFrame('reset', { topics: reset.topics, reason: reset.reason }, reset.id)]
  return cut(first, events, group.format, frameOf, sliceBytes, (slice) => {
    group.replay = { reset: resetJson, events, slice }
  })
}

/** Slices of about `sliceBytes` of whole frames; `whole` gets the slice when there is only one. */
function * cut (first: Buffer[], events: readonly TickerEvent[], format: StreamFormat, frameOf: FrameOf, sliceBytes: number,
  whole: (slice: Slice) => void): Generator<Slice, void, undefined> {
  let frames = first
  let bytes = first.reduce((sum, frame) => sum + frame.length, 0)
  let count = 0
  let sliced = false
  const take = (): Slice => {
    const joined = joinAsChunk(frames)
    const slice = { bytes: joined.bytes, chunk: joined.chunk, events: count }
    frames = []
    bytes = 0
    count = 0
    return slice
  }
  for (const event of events) {
    const frame = frameOf(format, event)
    if (frame === undefined) continue
    if (bytes > 0 && bytes + frame.length > sliceBytes) {
      sliced = true
      yield take()
    }
    frames.push(frame)
    bytes += frame.length
    count++
  }
  if (frames.length === 0) return
  const last = take()
  if (!sliced) whole(last)
  yield last
}
