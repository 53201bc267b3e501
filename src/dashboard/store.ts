/**
 * The events tiles draw from: for each topic, the newest few that its tiles need (a chart's
 * samples, a feed's headlines), oldest first. `apply` is idempotent and keeps order by seq, so it
 * does not matter who applies an event first (the store's own bus listener, a stream format
 * about to render it, or the history fill racing live events). A topic gets state only from an
 * event: reading never makes any.
 */
import { parseId, type Bus, type TickerEvent } from '../bus/index.ts'

export class TopicEvents {
  readonly #keep: (topic: string) => number
  readonly #lists = new Map<string, TickerEvent[]>()

  constructor (keep: (topic: string) => number) {
    this.#keep = keep
  }

  /** Topics that have had an event. */
  get size (): number {
    return this.#lists.size
  }

  /** The events kept of `topic`, oldest first. */
  events (topic: string): readonly TickerEvent[] {
    return this.#lists.get(topic) ?? []
  }

  /** Forgets all it holds of `topic` (the topic was dropped). */
  forget (topic: string): void {
    this.#lists.delete(topic)
  }

  /** Takes an event; one it already has, or older than all it keeps, changes nothing. */
  apply (event: TickerEvent): void {
    let list = this.#lists.get(event.topic)
    if (list === undefined) {
      this.#lists.set(event.topic, [event])
      return
    }
    const last = list.at(-1) as TickerEvent
    if (epochOf(last) !== epochOf(event)) {
      // A new history (the bus lost its own): what was kept belongs to the old one.
      list = [event]
      this.#lists.set(event.topic, list)
      return
    }
    let at = list.length
    while (at > 0 && (list[at - 1] as TickerEvent).seq > event.seq) at--
    if (at > 0 && (list[at - 1] as TickerEvent).seq === event.seq) return
    list.splice(at, 0, event)
    const keep = this.#keep(event.topic)
    if (list.length > keep) list.splice(0, list.length - keep)
  }

  /**
   * Follows the bus live, and fills from its history as soon as the bus can serve (at once for
   * the memory backend; when Redis is reached for redis). `filled` settles when that is done (a
   * failure goes to `onError`). Returns the unsubscribe function.
   */
  follow (bus: Bus, onError: (err: unknown) => void): () => void {
    const unsubscribe = bus.subscribe((event) => this.apply(event))
    this.filled = bus.ready().then(async () => {
      for (const { name } of await bus.topics()) {
        for (const event of (await bus.history(name, undefined, this.#keep(name))).events) this.apply(event)
      }
    }).catch(onError)
    return unsubscribe
  }

  /** Settles once follow() filled the store from history (or failed to). */
  filled: Promise<void> = Promise.resolve()
}

const epochOf = (event: TickerEvent): string | undefined => parseId(event.id)?.epoch
