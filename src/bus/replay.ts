/**
 * Replay planning: what a (re)connecting client gets before live events. Pure.
 *
 * | client sent                         | plan                                                     |
 * |-------------------------------------|----------------------------------------------------------|
 * | no ID                               | the latest event of each topic (a fresh screen)          |
 * | an ID of this epoch, history intact | every later event of its topics, in order, exactly once  |
 * | an ID of this epoch, some evicted   | reset(those topics) + latest of those, and every later   |
 * |                                     | event of the others, merged in order                     |
 * | malformed, other epoch, future seq  | reset(all topics) + the latest event of each             |
 *
 * Events always come in ascending seq, so the last one a client receives is a valid cursor.
 */
import { formatId, parseId } from './event-id.ts'
import type { ReplayPlan, ResetReason, TickerEvent } from './types.ts'

/** What planReplay needs to know of one topic's buffer. */
export interface ReplaySource {
  readonly evictedSeq: number
  latest (): TickerEvent | undefined
  after (seq: number): TickerEvent[]
}

export interface ReplayInput {
  readonly topics: readonly string[]
  readonly lastId: string | undefined
  readonly epoch: string
  /** Highest seq the bus has handed out. */
  readonly headSeq: number
  readonly buffer: (topic: string) => ReplaySource | undefined
}

const bySeq = (a: TickerEvent, b: TickerEvent): number => a.seq - b.seq

function latestOf (topics: readonly string[], input: ReplayInput): TickerEvent[] {
  const events: TickerEvent[] = []
  for (const topic of topics) {
    const latest = input.buffer(topic)?.latest()
    if (latest !== undefined) events.push(latest)
  }
  return events.sort(bySeq)
}

/**
 * Where a client that last saw `lastId` resumes: the seq to continue after, or why it cannot
 * (per topic, history may still have been evicted after that seq: see planReplay).
 */
export function resumePoint (lastId: string, epoch: string, headSeq: number): { readonly seq: number } | { readonly reason: ResetReason } {
  const parsed = parseId(lastId)
  if (parsed === undefined) return { reason: 'malformed-id' }
  if (parsed.epoch !== epoch) return { reason: 'other-epoch' }
  if (parsed.seq > headSeq) return { reason: 'unknown-id' }
  return { seq: parsed.seq }
}

export function planReplay (input: ReplayInput): ReplayPlan {
  const { topics, lastId, epoch, headSeq } = input
  const cursor = formatId(epoch, headSeq)
  if (lastId === undefined) return { events: latestOf(topics, input), headSeq, cursor }

  const point = resumePoint(lastId, epoch, headSeq)
  if ('reason' in point) {
    return { reset: { topics: [...topics], reason: point.reason }, events: latestOf(topics, input), headSeq, cursor }
  }

  const lastSeq = point.seq
  const evicted: string[] = []
  const events: TickerEvent[] = []
  for (const topic of topics) {
    const source = input.buffer(topic)
    if (source === undefined) continue
    if (source.evictedSeq > lastSeq) {
      evicted.push(topic)
      const latest = source.latest()
      if (latest !== undefined) events.push(latest)
    } else {
      for (const event of source.after(lastSeq)) events.push(event)
    }
  }
  events.sort(bySeq)
  return evicted.length > 0
    ? { reset: { topics: evicted, reason: 'evicted' }, events, headSeq, cursor }
    : { events, headSeq, cursor }
}
