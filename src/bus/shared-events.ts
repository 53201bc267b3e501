/**
 * Events made from Redis's entries, kept per topic by seq, at most the topic's capacity: live
 * delivery, replays and history then share one object (and its encoded frames) per event, so an
 * instance holds what a memory bus would, however many streams resume far back.
 */
import type { TickerEvent } from './types.ts'

export class SharedEvents {
  readonly #capacityOf: (topic: string) => number
  readonly #byTopic = new Map<string, Map<number, TickerEvent>>()

  constructor (capacityOf: (topic: string) => number) {
    this.#capacityOf = capacityOf
  }

  /** Events held, in all. */
  get size (): number {
    let held = 0
    for (const events of this.#byTopic.values()) held += events.size
    return held
  }

  get (topic: string, seq: number): TickerEvent | undefined {
    return this.#byTopic.get(topic)?.get(seq)
  }

  /** Keeps `event`, forgetting the topic's earliest-kept one past its capacity. */
  remember (event: TickerEvent): void {
    let events = this.#byTopic.get(event.topic)
    if (events === undefined) {
      events = new Map()
      this.#byTopic.set(event.topic, events)
    }
    events.set(event.seq, event)
    if (events.size > this.#capacityOf(event.topic)) events.delete(events.keys().next().value as number)
  }

  forget (topic: string): void {
    this.#byTopic.delete(topic)
  }

  clear (): void {
    this.#byTopic.clear()
  }
}
