/**
 * The Redis backend: history, IDs and order live in Redis (Streams, see redis-scripts.ts), so
 * several instances behave as one bus. Each instance has one reader that follows the stream of
 * every event and hands each event to its listeners once, in order; the hub, its groups and the
 * encode-once path above it stay as they are.
 *
 * - publish(): one script assigns the seq, appends to the topic's history and to the stream of
 *   every event, and trims; it resolves once this instance's listeners have the event (as the
 *   memory backend's publish does), so a publisher's reply follows the fan-out.
 * - Reads (replay, history, latest) take one atomic snapshot (MULTI) and reuse the pure planning
 *   of replay.ts. Events older than a topic's maxAgeSeconds count as evicted, as in the memory
 *   backend's ring buffers.
 * - The epoch lives in Redis: a restarted instance keeps it; a Redis that lost its data gets a new
 *   one from the next publish, and every instance adopts it (clients then get `reset`).
 * - Redis unreachable (at start or later): publishing and reading fail at once with
 *   BusUnavailableError (503); ioredis reconnects with backoff, and the bus serves again when
 *   Redis is back. Nothing waits in memory for it: the command connection keeps no offline queue.
 */
import { Redis, ReplyError } from 'ioredis'
import { BusFullError, BusTimeoutError, BusUnavailableError, FencedError, TopicLimitError, TopicNameInvalidError, TopicUnknownError } from '../errors.ts'
import { formatId, newEpoch, parseId } from './event-id.ts'
import { encodePayload } from './payload.ts'
import { RedisLeases } from './lease.ts'
import { SharedEvents } from './shared-events.ts'
import { defineScripts, Keys } from './redis-scripts.ts'
import { planReplay, resumePoint, type ReplaySource } from './replay.ts'
import { boundsOf, familyOf, isValidTopicName, type RingBounds, type TopicRules } from './topics.ts'
import type { Bus, BusListener, BusLog, HistoryPage, ReplayPlan, RunCoordinator, RunLease, TickerEvent, TopicInfo } from './types.ts'

export interface RedisBusOptions extends TopicRules {
  readonly url: string
  /** Every key is `{<keyPrefix>}:...`; instances that share history share the prefix. */
  readonly keyPrefix: string
  /** Entries kept in the stream of every event, for readers that fall behind (a Redis blip). */
  readonly streamCapacity?: number
  /** Clock for event times and age eviction, for tests. Defaults to Redis's own (one clock for every instance). */
  readonly now?: () => number
  /** Called when a listener throws; the event is still delivered to the others. */
  readonly onListenerError?: (err: unknown, event: TickerEvent) => void
  /** Where state changes (Redis reached, lost, back; a new epoch) are logged, once each. */
  readonly log?: BusLog
}

/** Whether the bus can serve: before Redis was first reached, `connecting`. */
export type RedisState = 'connecting' | 'up' | 'down'

/** Redis stream entries: [id, [field, value, ...]]. */
type Entry = [id: string, fields: string[]]

const DEFAULT_STREAM_CAPACITY = 100_000
/** Dropped family topics whose eviction mark Redis keeps (see TOPIC_DROP_IDLE). */
const MAX_DROP_MARKS = 100_000
/** Idle topics checked together in one sweep's round trip. */
const DROP_BATCH = 500
/** Redis's replies for a server that cannot take writes for now. */
const REDIS_BUSY_REPLIES = new Set(['LOADING', 'READONLY', 'MASTERDOWN', 'BUSY', 'NOREPLICAS', 'TRYAGAIN', 'CLUSTERDOWN'])
/** The reader waits this long for new events before it looks at the epoch again. */
const READ_BLOCK_MS = 1000
/** How long publish() waits for this instance's reader to hand its event to the listeners. */
const DELIVERY_WAIT_MS = 5000

/** Longest wait between two attempts to reach Redis. */
const MAX_RECONNECT_DELAY_MS = 2000
/**
 * Longest a command may wait for Redis's answer: a Redis that hangs (partitioned, stopped) fails
 * publishing and reads with 503 after this, instead of piling requests up in memory.
 */
const COMMAND_TIMEOUT_MS = 2000

const seqOf = (id: string): number => Number(id.slice(0, id.indexOf('-')))
const NOT_REACHED = new BusUnavailableError()
const silent: BusLog = { info () {}, warn () {}, error () {} }
const field = (fields: readonly string[], name: string): string => fields[fields.indexOf(name) + 1] ?? ''

export class RedisBus implements Bus {
  readonly #options: RedisBusOptions
  readonly #keys: Keys
  readonly #redis: Redis
  readonly #reader: Redis
  readonly #listeners = new Set<BusListener>()
  readonly #gapListeners = new Set<() => void>()
  /** Topics this instance knows to exist: declared, created by publishing (here or elsewhere). */
  readonly #known = new Set<string>()
  /** The events made from Redis's entries, shared by live delivery, replays and history. */
  readonly #shared: SharedEvents
  /** Counts epoch adoptions: a read issued before the latest is stale (it follows the old history). */
  #generation = 0
  /** Events published here, waiting for the reader to hand them to the listeners. */
  readonly #own = new Map<number, { event: TickerEvent, delivered: () => void }>()
  #epoch = ''
  /** The last seq the reader handed to the listeners, in this epoch. */
  #deliveredSeq = 0
  #readFrom = '0-0'
  #reading: Promise<void>
  #state: RedisState = 'connecting'
  readonly #ready: Promise<void>
  #becameReady: () => void = () => {}
  #closed = false
  /** Settles on close(): a read pending on a lost connection would otherwise hold close() for good. */
  readonly #closing: Promise<null>
  #settleClosing: () => void = () => {}

  private constructor (options: RedisBusOptions) {
    this.#options = options
    this.#keys = new Keys(options.keyPrefix)
    this.#shared = new SharedEvents((topic) => (boundsOf(options, topic) ?? options.defaults).capacity)
    const retryStrategy = (attempt: number): number => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS)
    this.#redis = new Redis(options.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy, commandTimeout: COMMAND_TIMEOUT_MS, enableAutoPipelining: true })
    defineScripts(this.#redis)
    this.#reader = new Redis(options.url, { enableOfflineQueue: true, maxRetriesPerRequest: null, retryStrategy })
    for (const client of [this.#redis, this.#reader]) client.on('error', () => {}) // state changes are logged below
    this.#redis.on('close', () => this.#lost())
    for (const name of Object.keys(options.declared)) this.#known.add(name)
    this.#ready = new Promise((resolve) => { this.#becameReady = resolve })
    this.#closing = new Promise((resolve) => { this.#settleClosing = () => resolve(null) })
    this.#reading = this.#run()
  }

  /**
   * A bus on the Redis at `options.url`, reaching it in the background: until it is reached (and
   * whenever it is lost) publishing and reading fail with BusUnavailableError.
   */
  static start (options: RedisBusOptions): RedisBus {
    return new RedisBus(options)
  }

  /** start(), then wait until Redis is reached. */
  static async connect (options: RedisBusOptions): Promise<RedisBus> {
    const bus = RedisBus.start(options)
    await bus.ready()
    return bus
  }

  get epoch (): string { return this.#epoch }

  /** Whether Redis is reachable now (`connecting` until it first was). */
  get state (): RedisState { return this.#state }

  async ready (): Promise<void> {
    return this.#ready
  }

  async publish (topic: string, data: unknown, lease?: RunLease): Promise<TickerEvent> {
    if (this.#state !== 'up') throw NOT_REACHED
    const declared = this.#options.declared[topic]
    if (declared === undefined && !isValidTopicName(topic)) throw new TopicNameInvalidError(topic)
    const json = encodePayload(data)
    const creatable = boundsOf(this.#options, topic)
    const bounds: RingBounds = creatable ?? this.#options.defaults
    const now = this.#options.now?.()
    const k = this.#keys
    let epoch: string
    let seq: number
    let time: number
    try {
      [epoch, seq, time] = await this.#redis.tickerPublish(k.epoch, k.seq, k.events, k.topic(topic), k.topics, k.evicted,
        lease === undefined ? k.seq : k.fence(lease.producer),
        topic, json, now ?? '', bounds.capacity, bounds.maxAgeSeconds * 1000, this.#options.streamCapacity ?? DEFAULT_STREAM_CAPACITY,
        newEpoch(now ?? Date.now()), declared === undefined ? '0' : '1', creatable === undefined ? '0' : '1',
        this.#options.maxTopics - Object.keys(this.#options.declared).length, lease === undefined ? '' : String(lease.token))
    } catch (err) {
      const message = (err as Error).message
      if (message.includes('TICKER_TOPIC_UNKNOWN')) throw new TopicUnknownError(topic)
      if (message.includes('TICKER_TOPIC_LIMIT')) throw new TopicLimitError(this.#options.maxTopics)
      if (message.includes('TICKER_FENCED')) throw new FencedError((lease as RunLease).producer)
      throw this.#failed(err)
    }
    if (epoch !== this.#epoch) this.#adopt(epoch)
    this.#known.add(topic)
    const event: TickerEvent = Object.freeze({ id: formatId(epoch, seq), seq, topic, time: Number(time), data: JSON.parse(json) as unknown, json })
    if (seq <= this.#deliveredSeq) return event // the reader was quicker than this reply
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#own.delete(seq)
        resolve()
      }, DELIVERY_WAIT_MS)
      this.#own.set(seq, { event, delivered: () => { clearTimeout(timer); resolve() } })
    })
    return event
  }

  async dropIdle (following: ReadonlySet<string>, heldForMs: number): Promise<string[]> {
    if (this.#state !== 'up') return []
    const dropped: string[] = []
    const k = this.#keys
    // What streams here follow, for every instance to see until the next sweep (and then some).
    const followedHere = [...following].filter((topic) => familyOf(this.#options, topic) !== undefined)
    for (let i = 0; i < followedHere.length; i += DROP_BATCH) {
      await this.#redis.tickerTopicsFollowed(k.followed, heldForMs, ...followedHere.slice(i, i + DROP_BATCH))
    }
    const candidates = [...this.#known].filter((topic) => familyOf(this.#options, topic)?.idleMs !== undefined && !following.has(topic))
    // In batches sent together (the client pipelines concurrent commands): one round trip per
    // batch, not per topic.
    for (let i = 0; i < candidates.length; i += DROP_BATCH) {
      const batch = candidates.slice(i, i + DROP_BATCH)
      const gone = await Promise.all(batch.map(async (topic) =>
        this.#redis.tickerTopicDropIdle(k.topic(topic), k.topics, k.evicted, k.dropped, k.followed, topic, familyOf(this.#options, topic)?.idleMs ?? 0, MAX_DROP_MARKS).catch(() => 0)))
      batch.forEach((topic, j) => {
        if (gone[j] !== 1) return
        this.#known.delete(topic)
        this.#shared.forget(topic)
        dropped.push(topic)
      })
    }
    return dropped
  }

  subscribe (listener: BusListener, onGap?: () => void): () => void {
    this.#listeners.add(listener)
    if (onGap !== undefined) this.#gapListeners.add(onGap)
    return () => {
      this.#listeners.delete(listener)
      if (onGap !== undefined) this.#gapListeners.delete(onGap)
    }
  }

  async replay (topics: readonly string[], lastId: string | undefined): Promise<ReplayPlan> {
    const parsed = lastId === undefined ? undefined : parseId(lastId)
    const after = parsed !== undefined && parsed.epoch === this.#epoch ? parsed.seq : undefined
    const tx = this.#redis.multi().get(this.#keys.epoch).get(this.#keys.seq)
    for (const topic of topics) {
      const key = this.#keys.topic(topic)
      tx.xrevrange(key, '+', '-', 'COUNT', '1')
      if (after !== undefined) tx.xrange(key, `(${after}-0`, '+').hget(this.#keys.evicted, topic)
    }
    const results = await this.#exec(tx.time())
    const now = this.#clock(results.pop())
    this.#current(results.shift())
    const headSeq = Number(results.shift() ?? 0)
    const sources = new Map<string, ReplaySource>()
    for (const topic of topics) {
      const latest = results.shift() as Entry[]
      const entries = after === undefined ? [] : results.shift() as Entry[]
      const evicted = after === undefined ? null : results.shift() as string | null
      sources.set(topic, this.#source(topic, latest, entries, evicted, now))
    }
    return planReplay({ topics, lastId, epoch: this.#epoch, headSeq, buffer: (topic) => sources.get(topic) })
  }

  async latest (topic: string): Promise<TickerEvent | undefined> {
    const [entries, time] = await this.#exec(this.#redis.multi().xrevrange(this.#keys.topic(topic), '+', '-', 'COUNT', '1').time())
    return this.#young(topic, entries as Entry[], this.#clock(time))[0]
  }

  async history (topic: string, afterId: string | undefined, limit: number): Promise<HistoryPage> {
    const parsed = afterId === undefined ? undefined : parseId(afterId)
    const key = this.#keys.topic(topic)
    const tx = this.#redis.multi().get(this.#keys.epoch).get(this.#keys.seq).hget(this.#keys.evicted, topic).xrevrange(key, '+', '-', 'COUNT', limit)
    if (parsed !== undefined) tx.xrange(key, `(${parsed.seq}-0`, '+', 'COUNT', limit + 1)
    const results = await this.#exec(tx.time())
    const now = this.#clock(results.pop())
    const [epoch, head, evicted, tail, forward] = results as [string | null, string | null, string | null, Entry[], Entry[] | undefined]
    this.#current(epoch)
    const newest = this.#young(topic, [...tail].reverse(), now)
    if (afterId === undefined) return { events: newest, reset: false, hasMore: false }
    const point = resumePoint(afterId, this.#epoch, Number(head ?? 0))
    const page = this.#young(topic, forward ?? [], now)
    const gone = 'reason' in point || (evicted !== null && seqOf(evicted) > point.seq) ||
      page.length < (forward ?? []).length // an event after `after` aged out
    if (gone) return { events: newest, reset: true, hasMore: false }
    return { events: page.slice(0, limit), reset: false, hasMore: page.length > limit }
  }

  async cursor (): Promise<string> {
    const [epoch, seq] = await this.#exec(this.#redis.multi().get(this.#keys.epoch).get(this.#keys.seq))
    this.#current(epoch)
    return formatId(this.#epoch, Number(seq ?? 0))
  }

  async topics (): Promise<TopicInfo[]> {
    const [created] = await this.#exec(this.#redis.multi().zrange(this.#keys.topics, '0', '-1')) as [string[]]
    for (const name of created) this.#known.add(name)
    const declared = Object.keys(this.#options.declared)
    const names = [...declared, ...created.filter((name) => !Object.hasOwn(this.#options.declared, name))]
    const tx = this.#redis.multi()
    for (const name of names) tx.xlen(this.#keys.topic(name)).xrevrange(this.#keys.topic(name), '+', '-', 'COUNT', '1')
    const results = await this.#exec(tx.time())
    const now = this.#clock(results.pop())
    return names.map((name) => {
      const buffered = Number(results.shift() ?? 0)
      const [latest] = this.#young(name, results.shift() as Entry[], now)
      return { name, declared: Object.hasOwn(this.#options.declared, name), buffered, lastId: latest?.id }
    })
  }

  hasTopic (topic: string): boolean {
    return this.#known.has(topic)
  }

  /** Leases in this Redis for `producers`: each runs on one instance of those sharing the prefix. */
  coordinator (options: { instance: string, producers: readonly string[], ttlMs: number, now?: () => number }): RunCoordinator {
    return new RedisLeases({ ...options, redis: this.#redis, keys: this.#keys, log: this.#log })
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#settleClosing()
    this.#listeners.clear()
    this.#gapListeners.clear()
    this.#reader.disconnect()
    this.#redis.disconnect()
    await this.#reading
  }

  /**
   * Until close(): reach Redis (at start, and again after it was lost), take its epoch and topics,
   * then follow the stream of every event, handing each to the listeners.
   */
  async #run (): Promise<void> {
    while (!this.#closed) {
      try {
        await this.#reach()
        const generation = this.#generation
        const batch = await this.#readBatch()
        if (this.#closed) return
        // A new epoch was adopted while the read was out (by a publish or a read): the batch
        // continues the old history's position, so it is dropped and the new one read from its start.
        if (generation !== this.#generation) continue
        if (batch === 'no answer') {
          // A Redis that stopped answering (a partition, a hung server): reconnect the reader,
          // and serve 503 until #reach() gets through.
          this.#lost(new Error('the reader got no answer from Redis in time'))
          this.#reader.disconnect(true)
          continue
        }
        if (batch === null) {
          await this.#checkEpoch()
          continue
        }
        for (const [, entries] of batch) {
          for (const entry of entries) {
            const epoch = field(entry[1], 'e')
            if (epoch !== this.#epoch) {
              // Redis's epoch key decides: a newer history (adopted: read it from the start),
              // or an entry left from before a rollback (skipped: clients resume in the new one).
              await this.#checkEpoch()
              if (epoch === this.#epoch) break
              this.#readFrom = entry[0]
              continue
            }
            this.#dispatch(entry)
          }
        }
      } catch (err) {
        if (this.#closed) return
        this.#lost(err)
        await new Promise((resolve) => setTimeout(resolve, MAX_RECONNECT_DELAY_MS / 4))
      }
    }
  }

  /** The next entries of the stream of every event: null after the block time with none; 'no answer' past the command timeout too. */
  async #readBatch (): Promise<Array<[string, Entry[]]> | null | 'no answer'> {
    let timer: NodeJS.Timeout | undefined
    const read = this.#reader.xread('COUNT', 1000, 'BLOCK', READ_BLOCK_MS, 'STREAMS', this.#keys.events, this.#readFrom)
    read.catch(() => {}) // when it loses the race, its failure is no news
    try {
      return await Promise.race([
        read,
        this.#closing,
        new Promise<'no answer'>((resolve) => { timer = setTimeout(resolve, READ_BLOCK_MS + COMMAND_TIMEOUT_MS, 'no answer') })
      ])
    } finally {
      clearTimeout(timer)
    }
  }

  /** When Redis was not reached yet, or lost: its epoch (made if it has none), topics and where to read from. */
  async #reach (): Promise<void> {
    if (this.#state === 'up') return
    if (this.#redis.status !== 'ready') throw NOT_REACHED
    await this.#redis.set(this.#keys.epoch, newEpoch(Date.now()), 'NX')
    const [epoch, created, last] = await Promise.all([
      this.#redis.get(this.#keys.epoch),
      this.#redis.zrange(this.#keys.topics, '0', '-1'),
      this.#redis.xrevrange(this.#keys.events, '+', '-', 'COUNT', 1)
    ])
    for (const name of created) this.#known.add(name)
    const first = this.#state === 'connecting'
    if (first) {
      this.#epoch = epoch ?? ''
      this.#readFrom = last[0]?.[0] ?? '0-0'
    } else if (epoch !== null && epoch !== this.#epoch) {
      this.#adopt(epoch)
    } else if (this.#readFrom !== '0-0' && seqOf(last[0]?.[0] ?? '0-0') < seqOf(this.#readFrom)) {
      // Same epoch, but the stream of every event went back: Redis was restored from an older
      // state, and its seqs will name new events that clients already know by those IDs.
      // What is in the stream now belongs to the old epoch: the new one is read from its top.
      this.#adopt(await this.#redis.tickerEpochRotate(this.#keys.epoch, this.#epoch, newEpoch(Date.now())), last[0]?.[0] ?? '0-0')
    }
    this.#state = 'up'
    this.#log.info({ url: redact(this.#options.url), epoch: this.#epoch }, first ? 'Redis reached' : 'Redis is back')
    this.#becameReady()
  }

  /** Redis is gone: publishing and reading answer 503 until #reach() succeeds again. */
  #lost (err?: unknown): void {
    if (this.#state !== 'up' || this.#closed) return
    this.#state = 'down'
    this.#log.warn({ url: redact(this.#options.url), reason: (err as Error | undefined)?.message ?? 'connection closed' },
      'Redis is unreachable; publishing and history answer 503, open streams stay open, until it is back')
  }

  get #log (): BusLog { return this.#options.log ?? silent }

  /**
   * A command's failure as the caller should see it: Redis's own answer as is; no answer, and the
   * bus is down until #reach() gets through again. A lost connection means the command was not
   * run (503); a Redis that hung past the command timeout may still run it when it wakes up (504,
   * which says so: a publisher that retries may publish twice).
   */
  #failed (err: unknown): Error {
    if (err instanceof ReplyError) {
      // Redis answered: the connection is fine. A full Redis (noeviction) or one that cannot
      // write for now (loading its data, a read-only replica after a failover) is a 503; anything
      // else is a fault of ours.
      // A MULTI that Redis discarded (EXECABORT) says why in the errors of its commands.
      const cause = (err as { previousErrors?: Error[] }).previousErrors?.[0] ?? err as Error
      const kind = cause.message.split(' ', 1)[0] ?? ''
      if (kind === 'OOM') return new BusFullError()
      if (REDIS_BUSY_REPLIES.has(kind)) return new BusUnavailableError()
      return err as Error
    }
    this.#lost(err)
    return /timed out/i.test((err as Error).message) ? new BusTimeoutError() : new BusUnavailableError()
  }

  /** Hands one entry of this epoch to the listeners. */
  #dispatch ([id, fields]: Entry): void {
    this.#readFrom = id
    const seq = seqOf(id)
    if (this.#deliveredSeq > 0 && seq > this.#deliveredSeq + 1) this.#gap(this.#deliveredSeq, seq)
    this.#deliveredSeq = seq
    const own = this.#own.get(seq)
    this.#own.delete(seq)
    const event = own?.event ?? this.#event(field(fields, 'p'), id, fields)
    if (own !== undefined) this.#shared.remember(event)
    this.#known.add(event.topic) // created on another instance, perhaps
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch (err) {
        this.#options.onListenerError?.(err, event)
      }
    }
    own?.delivered()
  }

  /** The time of a snapshot: Redis's clock (TIME's reply), the same for every instance; or the injected one. */
  #clock (time: unknown): number {
    if (this.#options.now !== undefined) return this.#options.now()
    const [seconds, micros] = time as [string, string]
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  }

  /** The epoch a snapshot was taken in: adopted at once if it is new (reads never mix two histories). */
  #current (epoch: unknown): void {
    if (typeof epoch === 'string' && epoch !== '') this.#adopt(epoch)
  }

  /** Events after `from` and before `to` were trimmed from the shared stream before this reader got them. */
  #gap (from: number, to: number): void {
    this.#log.error({ missed: to - from - 1, after: from },
      'this instance read the stream of every event too late to get all of it; its streams are ended so that their clients resume from history')
    for (const listener of this.#gapListeners) listener()
  }

  /** The stream of every event started again (Redis lost its data): a new epoch, read from its start. */
  async #checkEpoch (): Promise<void> {
    const epoch = await this.#redis.get(this.#keys.epoch)
    if (epoch !== null && epoch !== this.#epoch) this.#adopt(epoch)
  }

  /**
   * A new epoch (Redis lost its history, or it was rolled back): read the stream of every event
   * from its start, and end every stream relayed from the old one (the gap listeners), so that
   * their clients resume and are told `reset` instead of missing events that reuse old seqs.
   */
  #adopt (epoch: string, readFrom = '0-0'): void {
    if (epoch === this.#epoch) return
    const previous = this.#epoch
    this.#epoch = epoch
    this.#shared.clear()
    if (previous === '') return
    this.#generation++
    this.#log.warn({ was: previous, now: epoch }, 'Redis has a new epoch (its history was lost): open streams end, and clients that resume get reset')
    this.#readFrom = readFrom
    this.#deliveredSeq = seqOf(readFrom)
    for (const { delivered } of this.#own.values()) delivered()
    this.#own.clear()
    for (const listener of this.#gapListeners) listener()
  }

  /** The event of a stream entry, shared with the event of the same seq seen before. */
  #event (topic: string, id: string, fields: readonly string[]): TickerEvent {
    const seq = seqOf(id)
    const seen = this.#shared.get(topic, seq)
    if (seen !== undefined) return seen
    const json = field(fields, 'd')
    const event: TickerEvent = Object.freeze({
      id: formatId(this.#epoch, seq), seq, topic, time: Number(field(fields, 't')), data: JSON.parse(json) as unknown, json
    })
    this.#shared.remember(event)
    return event
  }

  /** Events this instance holds in memory for sharing: at most the sum of its topics' capacities. */
  get heldEvents (): number {
    return this.#shared.size
  }

  /** The events of `entries` that are younger than the topic's maxAgeSeconds. */
  #young (topic: string, entries: readonly Entry[], now: number): TickerEvent[] {
    const cutoff = now - (boundsOf(this.#options, topic) ?? this.#options.defaults).maxAgeSeconds * 1000
    return entries.filter(([, fields]) => Number(field(fields, 't')) >= cutoff).map(([id, fields]) => this.#event(topic, id, fields))
  }

  /** One topic's history as planReplay sees it: entries past the age limit count as evicted. */
  #source (topic: string, latest: Entry[], entries: Entry[], evicted: string | null, now: number): ReplaySource {
    const young = this.#young(topic, entries, now)
    const aged = entries.length - young.length
    const agedSeq = aged > 0 ? seqOf((entries[aged - 1] as Entry)[0]) : 0
    const [newest] = this.#young(topic, latest, now)
    return {
      evictedSeq: Math.max(evicted === null ? 0 : seqOf(evicted), agedSeq),
      latest: () => newest,
      after: (seq) => young.filter((event) => event.seq > seq)
    }
  }

  /** Runs a MULTI; a failed command fails the whole read. Redis out of reach: BusUnavailableError. */
  async #exec (tx: ReturnType<Redis['multi']>): Promise<unknown[]> {
    if (this.#state !== 'up') throw NOT_REACHED
    const results = await tx.exec().catch((err: unknown) => { throw this.#failed(err) })
    if (results === null) throw new Error('the Redis transaction was aborted')
    return results.map(([err, value]) => {
      if (err !== null) throw err
      return value
    })
  }
}

/** The URL without its password. */
const redact = (url: string): string => url.replace(/\/\/([^@/]*)@/, '//[redacted]@')
