/**
 * A bounded buffer of one topic's recent events, oldest first.
 *
 *     capacity = 5, three pushes after it filled:
 *
 *       slots:  [ e6 | e7 | e8 | e4 | e5 ]
 *                               ^ start (oldest)         size = 5
 *       logical order: e4 e5 e6 e7 e8; pushing e9 overwrites e4 and sets evictedSeq = e4.seq
 *
 * Invariants:
 * - events are in ascending `seq` (the bus pushes in order), so lookups are binary searches;
 * - `evictedSeq` is the highest seq ever dropped (by count or age): every event of this topic with
 *   a higher seq is still here. That is what lets replay decide between "resume" and "reset".
 *
 * Pure: no timers; age eviction happens when the caller passes `nowMs`.
 */
import type { TickerEvent } from './types.ts'

export class RingBuffer {
  readonly capacity: number
  readonly maxAgeMs: number
  #slots: Array<TickerEvent | undefined>
  #start = 0
  #size = 0
  #evictedSeq = 0

  constructor (capacity: number, maxAgeMs: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`)
    this.capacity = capacity
    this.maxAgeMs = maxAgeMs
    this.#slots = []
  }

  get size (): number { return this.#size }

  /** Highest seq dropped so far; 0 when nothing was. */
  get evictedSeq (): number { return this.#evictedSeq }

  /** Counts every event up to `seq` as gone (a topic made again after it was dropped). */
  markEvicted (seq: number): void {
    this.#evictedSeq = Math.max(this.#evictedSeq, seq)
  }

  push (event: TickerEvent, nowMs: number): void {
    this.prune(nowMs)
    if (this.#size === this.capacity) this.#dropOldest()
    this.#slots[(this.#start + this.#size) % this.capacity] = event
    this.#size++
  }

  /** Drops events older than `maxAgeMs`. */
  prune (nowMs: number): void {
    const oldestAllowed = nowMs - this.maxAgeMs
    while (this.#size > 0 && (this.#at(0).time < oldestAllowed)) this.#dropOldest()
  }

  latest (): TickerEvent | undefined {
    return this.#size === 0 ? undefined : this.#at(this.#size - 1)
  }

  /** Up to `limit` events with seq greater than `seq`, oldest first. */
  after (seq: number, limit: number = Infinity): TickerEvent[] {
    const first = this.#firstIndexAfter(seq)
    const end = Math.min(this.#size, first + limit)
    const out: TickerEvent[] = []
    for (let i = first; i < end; i++) out.push(this.#at(i))
    return out
  }

  /** The newest `limit` events, oldest first. */
  tail (limit: number): TickerEvent[] {
    const out: TickerEvent[] = []
    for (let i = Math.max(0, this.#size - limit); i < this.#size; i++) out.push(this.#at(i))
    return out
  }

  #at (logical: number): TickerEvent {
    return this.#slots[(this.#start + logical) % this.capacity] as TickerEvent
  }

  #dropOldest (): void {
    const slot = this.#start
    this.#evictedSeq = (this.#slots[slot] as TickerEvent).seq
    this.#slots[slot] = undefined
    this.#start = (this.#start + 1) % this.capacity
    this.#size--
  }

  /** Binary search: logical index of the first event with seq > `seq` (size if none). */
  #firstIndexAfter (seq: number): number {
    let lo = 0
    let hi = this.#size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#at(mid).seq <= seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
