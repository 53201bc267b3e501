/**
 * The embedded backend: a ring buffer per topic and in-process fan-out.
 * History lives as long as the process; a restart starts a new epoch.
 */
import { TopicLimitError, TopicNameInvalidError, TopicUnknownError } from '../errors.ts'
import { formatId, newEpoch } from './event-id.ts'
import { encodePayload } from './payload.ts'
import { planReplay, resumePoint, type ReplaySource } from './replay.ts'
import { RingBuffer } from './ring-buffer.ts'
import { boundsOf, familyOf, isValidTopicName, type TopicRules } from './topics.ts'
import type { Bus, BusListener, HistoryPage, ReplayPlan, TickerEvent, TopicInfo } from './types.ts'

export interface MemoryBusOptions extends TopicRules {
  /** Clock, injectable for tests of age eviction. Defaults to Date.now. */
  now?: () => number
  /** Called when a listener throws; the event is still delivered to the others. */
  onListenerError?: (err: unknown, event: TickerEvent) => void
}

interface Topic {
  readonly buffer: RingBuffer
  readonly declared: boolean
  /** Of a topic family: dropped after this long with no event (and no subscriber). */
  readonly idleMs?: number
  lastEventAt: number
  lastSeq: number
}

/**
 * Dropped family topics whose last seq is remembered exactly; past this, the oldest marks are
 * folded into one floor (a resume from before it on a family topic gets `reset`: safe, if not
 * always needed).
 */
const MAX_DROP_MARKS = 100_000

export class MemoryBus implements Bus {
  readonly epoch: string
  #seq = 0
  #topics = new Map<string, Topic>()
  #listeners = new Set<BusListener>()
  /** Dropped family topics → the seq of their last event: what a resume from before must not miss. */
  #dropped = new Map<string, number>()
  #dropFloor = 0
  #options: MemoryBusOptions
  #now: () => number

  constructor (options: MemoryBusOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
    this.epoch = newEpoch(this.#now())
    for (const [name, topic] of Object.entries(options.declared)) {
      this.#topics.set(name, {
        buffer: new RingBuffer(topic.capacity, topic.maxAgeSeconds * 1000),
        declared: true,
        lastEventAt: 0,
        lastSeq: 0
      })
    }
  }

  async publish (topic: string, data: unknown): Promise<TickerEvent> {
    return this.publishSync(topic, data)
  }

  /** publish() without the promise: the memory backend accepts events synchronously. */
  publishSync (topicName: string, data: unknown): TickerEvent {
    const topic = this.#topicForPublish(topicName)
    const json = encodePayload(data)
    const now = this.#now()
    const seq = ++this.#seq
    const event: TickerEvent = Object.freeze({
      id: formatId(this.epoch, seq), seq, topic: topicName, time: now, data: JSON.parse(json) as unknown, json
    })
    topic.buffer.push(event, now)
    topic.lastEventAt = now
    topic.lastSeq = seq
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch (err) {
        this.#options.onListenerError?.(err, event)
      }
    }
    return event
  }

  subscribe (listener: BusListener): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  async replay (topics: readonly string[], lastId: string | undefined): Promise<ReplayPlan> {
    const now = this.#now()
    return planReplay({
      topics,
      lastId,
      epoch: this.epoch,
      headSeq: this.#seq,
      buffer: (name) => this.#buffer(name, now) ?? this.#droppedSource(name)
    })
  }

  /** A family topic that was dropped (or never made): nothing kept, and what it had is gone. */
  #droppedSource (name: string): ReplaySource | undefined {
    if (familyOf(this.#options, name) === undefined) return undefined
    const evictedSeq = this.#dropMark(name)
    return evictedSeq === 0 ? undefined : { evictedSeq, latest: () => undefined, after: () => [] }
  }

  async latest (topic: string): Promise<TickerEvent | undefined> {
    return this.#buffer(topic, this.#now())?.latest()
  }

  async history (topic: string, afterId: string | undefined, limit: number): Promise<HistoryPage> {
    const buffer = this.#buffer(topic, this.#now())
    if (buffer === undefined) return { events: [], reset: afterId !== undefined, hasMore: false }
    const point = afterId === undefined ? undefined : resumePoint(afterId, this.epoch, this.#seq)
    if (point === undefined || 'reason' in point || buffer.evictedSeq > point.seq) {
      const events = buffer.tail(limit)
      return { events, reset: afterId !== undefined, hasMore: false }
    }
    const events = buffer.after(point.seq, limit + 1)
    const hasMore = events.length > limit
    return { events: hasMore ? events.slice(0, limit) : events, reset: false, hasMore }
  }

  async cursor (): Promise<string> {
    return formatId(this.epoch, this.#seq)
  }

  async topics (): Promise<TopicInfo[]> {
    const now = this.#now()
    return [...this.#topics].map(([name, topic]) => {
      topic.buffer.prune(now)
      return { name, declared: topic.declared, buffered: topic.buffer.size, lastId: topic.buffer.latest()?.id }
    })
  }

  hasTopic (topic: string): boolean {
    return this.#topics.has(topic)
  }

  async ready (): Promise<void> {}

  readonly state = 'up'

  async close (): Promise<void> {
    this.#listeners.clear()
  }

  #buffer (name: string, now: number): RingBuffer | undefined {
    const buffer = this.#topics.get(name)?.buffer
    buffer?.prune(now)
    return buffer
  }

  #topicForPublish (name: string): Topic {
    const existing = this.#topics.get(name)
    if (existing !== undefined) return existing
    if (!isValidTopicName(name)) throw new TopicNameInvalidError(name)
    const bounds = boundsOf(this.#options, name)
    if (bounds === undefined) throw new TopicUnknownError(name)
    if (this.#topics.size >= this.#options.maxTopics) throw new TopicLimitError(this.#options.maxTopics)
    const family = familyOf(this.#options, name)
    const created: Topic = {
      buffer: new RingBuffer(bounds.capacity, bounds.maxAgeSeconds * 1000),
      declared: false,
      lastEventAt: this.#now(),
      lastSeq: 0,
      ...(family?.idleMs === undefined ? {} : { idleMs: family.idleMs })
    }
    // Made again after it was dropped: what it had then counts as evicted.
    if (family !== undefined) created.buffer.markEvicted(this.#dropMark(name))
    this.#dropped.delete(name)
    this.#topics.set(name, created)
    return created
  }

  /**
   * Drops the topics of families that had no event for their idle time and that `followed` says
   * nobody follows; returns their names (for whoever holds state for them).
   */
  async dropIdle (following: ReadonlySet<string>): Promise<string[]> {
    const followed = (topic: string): boolean => following.has(topic)
    const now = this.#now()
    const dropped: string[] = []
    for (const [name, topic] of this.#topics) {
      if (topic.idleMs === undefined || now - topic.lastEventAt < topic.idleMs || followed(name)) continue
      this.#topics.delete(name)
      this.#dropped.set(name, Math.max(topic.lastSeq, topic.buffer.evictedSeq))
      if (this.#dropped.size > MAX_DROP_MARKS) {
        const [oldest, seq] = this.#dropped.entries().next().value as [string, number]
        this.#dropped.delete(oldest)
        this.#dropFloor = Math.max(this.#dropFloor, seq)
      }
      dropped.push(name)
    }
    return dropped
  }

  /** What a dropped family topic had: events up to this seq are gone. */
  #dropMark (name: string): number {
    return this.#dropped.get(name) ?? this.#dropFloor
  }
}
