/**
 * Sessions grouped by what they receive: those that follow the same topics in the same format
 * get identical bytes, so the hub builds each flush once per group, not once per session.
 */
import type { TickerEvent } from '../bus/index.ts'
import type { StreamFormat } from './formats.ts'
import type { PendingFrame } from './handover.ts'
import type { Session, Slice } from './session.ts'

/**
 * The bytes of the last replay written to a session of the group (reset and replayed events, as
 * one HTTP chunk), kept for the next session that resumes from the same point: in a reconnect
 * storm thousands of clients resume from the same event. Dropped when the group gets a new event.
 */
export interface ReplayBytes {
  /** The reset notice as JSON (its id included), if any. */
  readonly reset: string | undefined
  readonly events: readonly TickerEvent[]
  readonly slice: Slice
}

/** Sessions with the same topics and format. */
export interface Group {
  readonly key: string
  readonly format: StreamFormat
  readonly topics: readonly string[]
  readonly sessions: Set<Session>
  /** Frames of the current flush window, in bus order (filled by the hub). */
  frames: PendingFrame[]
  replay: ReplayBytes | undefined
  /** When a flush or a heartbeat was last written to the group's sessions (performance.now()). */
  wroteAt: number
}

const groupKey = (topics: readonly string[], format: StreamFormat): string => `${format.name}|${[...topics].sort().join(',')}`

export class Groups {
  readonly #byKey = new Map<string, Group>()
  readonly #byTopic = new Map<string, Set<Group>>()

  /** The groups with a session following `topic`. */
  following (topic: string): ReadonlySet<Group> | undefined {
    return this.#byTopic.get(topic)
  }

  /** Every topic some group follows. */
  topics (): ReadonlySet<string> {
    return new Set(this.#byTopic.keys())
  }

  /** Every group now. */
  all (): IterableIterator<Group> {
    return this.#byKey.values()
  }

  /** Sessions following `topic` now. */
  subscribers (topic: string): number {
    let count = 0
    for (const group of this.#byTopic.get(topic) ?? []) count += group.sessions.size
    return count
  }

  /** Adds `session` to the group of its topics and format, made if needed; returns that group. */
  add (session: Session): Group {
    const key = groupKey(session.topics, session.format)
    let group = this.#byKey.get(key)
    if (group === undefined) {
      group = { key, format: session.format, topics: session.topics, sessions: new Set(), frames: [], replay: undefined, wroteAt: -Infinity }
      this.#byKey.set(key, group)
      for (const topic of session.topics) {
        let groups = this.#byTopic.get(topic)
        if (groups === undefined) this.#byTopic.set(topic, (groups = new Set()))
        groups.add(group)
      }
    }
    group.sessions.add(session)
    return group
  }

  /** Takes `session` out of its group, and the group out when it is empty. */
  remove (session: Session): void {
    const group = this.#byKey.get(groupKey(session.topics, session.format))
    if (group === undefined) return
    group.sessions.delete(session)
    if (group.sessions.size > 0) return
    this.#byKey.delete(group.key)
    for (const topic of group.topics) {
      const groups = this.#byTopic.get(topic)
      groups?.delete(group)
      if (groups?.size === 0) this.#byTopic.delete(topic)
    }
  }
}
