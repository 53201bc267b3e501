/**
 * The hand-over from a stream's replay to its live events. Pure.
 *
 * While the bus prepares a replay plan, live frames keep arriving for the new stream; they are
 * held. The plan was made at the bus position `headSeq`: what it holds covers every event up to
 * there, so held frames up to `headSeq` are dropped and later ones follow the replay.
 *
 * | plan                         | what the client gets, in order                                     |
 * |------------------------------|--------------------------------------------------------------------|
 * | events, no reset             | the events, then held frames after headSeq, then live              |
 * | reset, then events           | reset (no id: the events set the cursor), events, held, live       |
 * | reset, nothing after it      | reset with the plan's cursor as its id, so the client's next       |
 * |                              | reconnect resumes from there instead of being reset again          |
 * | format with a replayKey      | as above, with only the last replayed event of each key (an html   |
 * |                              | tile: a feed tile's item and status topics share one key)          |
 */
import type { ReplayPlan, TickerEvent } from '../bus/index.ts'

/** A live frame, with the bus position of its event. */
export interface PendingFrame {
  readonly seq: number
  readonly frame: Buffer
}

export interface ResetNotice {
  readonly topics: readonly string[]
  readonly reason: string
  /** Set when nothing follows the reset: the cursor the client resumes from. */
  readonly id?: string
}

export interface Handover {
  readonly reset: ResetNotice | undefined
  /** Replayed events, in bus order. */
  readonly events: readonly TickerEvent[]
  /** Live frames up to this seq are covered by the replay. */
  readonly liveAfterSeq: number
}

/** What a replayed event stands for; of events with the same key only the last is replayed. */
export type ReplayKey = (event: TickerEvent) => string

/** The last event of each key, in bus order. */
export function lastOfEach (events: readonly TickerEvent[], key: ReplayKey): TickerEvent[] {
  const last = new Map<string, TickerEvent>()
  for (const event of events) last.set(key(event), event)
  return [...last.values()].sort((a, b) => a.seq - b.seq)
}

export function planHandover (plan: ReplayPlan, held: readonly PendingFrame[], replayKey?: ReplayKey): Handover {
  const events = replayKey === undefined ? plan.events : lastOfEach(plan.events, replayKey)
  const liveAfterSeq = plan.headSeq
  if (plan.reset === undefined) return { reset: undefined, events, liveAfterSeq }
  const followed = events.length > 0 || held.some((f) => f.seq > liveAfterSeq)
  const reset: ResetNotice = followed ? { ...plan.reset } : { ...plan.reset, id: plan.cursor }
  return { reset, events, liveAfterSeq }
}
