/**
 * A hand-over's reset and replayed events as write-ready slices (see Session.handOver).
 *
 * - Up to `sliceBytes`, one slice, kept on the group and shared with its other sessions that
 *   resume from the same point (a reconnect storm is thousands of those). Plans are built from
 *   the bus's event objects, so "the same point" is compared event by event.
 * - Above it, several slices of whole frames, written one after the other as the peer takes them.
 */
import { controlFrame, joinAsChunk } from './frame.ts'
import type { FrameOf } from './fanout.ts'
import type { Group } from './groups.ts'
import type { Handover } from './handover.ts'
import type { Slice } from './session.ts'

export function replaySlices (group: Group, { reset, events }: Handover, frameOf: FrameOf, sliceBytes: number): Slice[] {
  if (reset === undefined && events.length === 0) return []
  const resetJson = reset === undefined ? undefined : JSON.stringify(reset)
  const cached = group.replay
  if (cached !== undefined && cached.reset === resetJson && cached.events.length === events.length &&
    cached.events.every((event, i) => event === events[i])) return [cached.slice]

  const slices: Slice[] = []
  let frames: Buffer[] = []
  let bytes = 0
  let count = 0
  const cut = (): void => {
    const joined = joinAsChunk(frames)
    slices.push({ bytes: joined.bytes, chunk: joined.chunk, events: count })
    frames = []
    bytes = 0
    count = 0
  }
  if (reset !== undefined) frames.push(controlFrame('reset', { topics: reset.topics, reason: reset.reason }, reset.id))
  for (const event of events) {
    const frame = frameOf(group.format, event)
    if (frame === undefined) continue
    if (bytes > 0 && bytes + frame.length > sliceBytes) cut()
    frames.push(frame)
    bytes += frame.length
    count++
  }
  if (frames.length > 0) cut()
  if (slices.length === 1) group.replay = { reset: resetJson, events, slice: slices[0] as Slice }
  return slices
}
