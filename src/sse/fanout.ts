/**
 * Fan-out: one bus event into the flush window of every group that follows its topic. Each
 * format frames the event at most once, whatever the number of groups and sessions; a format that
 * cannot frame it is skipped (the caller's `frame` logs and counts that) and the others go on.
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
  let format: StreamFormat | undefined
  let frame: Buffer | undefined
  let failed: Set<StreamFormat> | undefined
  for (const group of following) {
    if (group.format !== format) {
      if (failed?.has(group.format) === true) continue
      format = group.format
      frame = frameOf(format, event)
      if (frame === undefined) {
        (failed ??= new Set()).add(format)
        continue
      }
    }
    flusher.add(group, { seq: event.seq, frame: frame as Buffer })
    group.replay = undefined // resuming sessions now get this event too: their replay differs
  }
  flusher.schedule()
}
