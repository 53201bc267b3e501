/**
 * Fan-out: one bus event into the flush window of every group that follows its topic. Each
 * format frames the event at most once, whatever the number of groups and sessions; a format that
 * cannot frame it is skipped for all of its groups (the caller's `frameOf` logs and counts that)
 * and the other formats go on.
 */
import type { TickerEvent } from '../bus/index.ts'
import type { Flusher } from './flusher.ts'
import type { StreamFormat } from './formats.ts'
import type { Groups } from './groups.ts'

/** The frame of `event` in `format`, or undefined when the format could not make it. */
export type FrameOf = (format: StreamFormat, event: TickerEvent) => Buffer | undefined

export function fanOut (event: TickerEvent, groups: Groups, flusher: Flusher, frameOf: FrameOf): void {
  const following = groups.following(event.topic)
  if (following === undefined) return
  // Most events go to one format: the map is made only when a second one shows up.
  let first: StreamFormat | undefined
  let firstFrame: Buffer | undefined
  let others: Map<StreamFormat, Buffer | undefined> | undefined
  for (const group of following) {
    const format = group.format
    let frame: Buffer | undefined
    if (first === undefined) {
      first = format
      frame = firstFrame = frameOf(format, event)
    } else if (format === first) {
      frame = firstFrame
    } else {
      others ??= new Map()
      if (!others.has(format)) others.set(format, frameOf(format, event))
      frame = others.get(format)
    }
    if (frame === undefined) continue
    flusher.add(group, { seq: event.seq, frame })
    group.replay = undefined // resuming sessions now get this event too: their replay differs
  }
  flusher.schedule()
}
