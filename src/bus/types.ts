/**
 * The bus contract. Every backend implements {@link Bus}; every other part imports
 * these types from `bus/index.ts`, never a backend directly.
 */

/** One published event, as the bus accepted it. Immutable. */
export interface TickerEvent {
  /** Opaque to clients: `<epoch>-<seq>`; see event-id.ts. */
  readonly id: string
  /** Position in the bus-wide order; spans every topic. */
  readonly seq: number
  readonly topic: string
  /** When the bus accepted it, ms since the Unix epoch. */
  readonly time: number
  /** The published payload, decoupled from the publisher's object. */
  readonly data: unknown
  /** `data` serialised once, exactly what goes on the wire. */
  readonly json: string
}

/** Why a client cannot resume where it left off. */
export type ResetReason = 'malformed-id' | 'other-epoch' | 'unknown-id' | 'evicted'

/** What a client that last saw `lastId` must receive before live events: see replay.ts. */
export interface ReplayPlan {
  /** Present when history is gone for some topics: the client must be told before `events`. */
  readonly reset?: { readonly topics: readonly string[], readonly reason: ResetReason }
  /** In bus order. */
  readonly events: readonly TickerEvent[]
  /** The bus position the plan was made at: live events at or before it are covered by the plan. */
  readonly headSeq: number
  /** `headSeq` as an event ID: a client that was sent nothing after the plan resumes from here. */
  readonly cursor: string
}

/** A page of one topic's history. */
export interface HistoryPage {
  readonly events: readonly TickerEvent[]
  /** True when `after` could not be honoured (gone from the buffer, other epoch, malformed). */
  readonly reset: boolean
  /** True when more events follow the last one returned. */
  readonly hasMore: boolean
}

export interface TopicInfo {
  readonly name: string
  readonly declared: boolean
  readonly buffered: number
  readonly lastId: string | undefined
}

export type BusListener = (event: TickerEvent) => void

/**
 * A producer's right to publish, from a RunCoordinator. A backend shared by several instances
 * refuses an event whose lease is no longer the producer's latest (FencedError).
 */
export interface RunLease {
  readonly producer: string
  readonly token: number
}

/** Decides which instance runs each scheduled producer: one at a time across a fleet. */
export interface RunCoordinator {
  /** This instance's name, as /producers shows it. */
  readonly instance: string
  /** The lease under which this instance may run `producer` now; undefined when it may not. */
  leaseFor (producer: string): RunLease | undefined
  /** The instance that runs `producer`, as last seen; undefined when none is known. */
  runnerOf (producer: string): string | undefined
  /**
   * A producer's own state, kept where every instance that may run it finds it (JSON). save()
   * is refused (false) once `lease` is no longer the producer's latest.
   */
  loadState (producer: string): Promise<unknown>
  saveState (lease: RunLease, state: unknown): Promise<boolean>
  /** Settles once the coordinator knows which leases this instance holds (its first round of Redis). */
  ready (): Promise<void>
  /** Gives up every lease (so another instance takes over at once) and stops. */
  stop (): Promise<void>
}

/** What a backend logs through: the app's logger (pino's shape). */
export interface BusLog {
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  error (obj: object, msg: string): void
}

export interface Bus {
  /** Identifies this bus's history; changes when history is lost (a restart of the memory backend). */
  readonly epoch: string
  /**
   * Accepts an event: gives it an ID, buffers it, and hands it to every listener.
   * Throws TopicUnknownError, TopicNameInvalidError, TopicLimitError, DataNotJsonError,
   * DataTooDeepError, FencedError (the lease was taken over) or BusUnavailableError.
   */
  publish (topic: string, data: unknown, lease?: RunLease): Promise<TickerEvent>
  /**
   * Live events of every topic, in bus order, from now on. Listeners are called in the order
   * they subscribed. `onGap` is called when this instance missed live events (with Redis: its
   * reader fell further behind than the shared stream keeps): whoever relayed them must make its
   * clients resume from history. Returns the unsubscribe function.
   */
  subscribe (listener: BusListener, onGap?: () => void): () => void
  /** What a client resuming after `lastId` (undefined: a fresh client) gets on `topics`. */
  replay (topics: readonly string[], lastId: string | undefined): Promise<ReplayPlan>
  latest (topic: string): Promise<TickerEvent | undefined>
  /** Up to `limit` events after `afterId`, oldest first; with no `afterId`, the newest `limit`. */
  history (topic: string, afterId: string | undefined, limit: number): Promise<HistoryPage>
  /** The ID of the bus's current position (the last event accepted, `<epoch>-0` before any): a valid resume point. */
  cursor (): Promise<string>
  /** Declared topics and those created by publishing. */
  topics (): Promise<TopicInfo[]>
  /** Whether `topic` is declared or was created. */
  hasTopic (topic: string): boolean
  /**
   * Drops the topics of families (config `topicPatterns`) that had no event for their idle time
   * and that nobody follows, with their history; returns their names. `following`: the topics
   * streams here follow; shared with other instances (Redis) for `heldForMs`, so that none of them
   * drops a topic followed only here.
   */
  dropIdle (following: ReadonlySet<string>, heldForMs: number): Promise<string[]>
  /** Resolves once the bus can serve (at once for the memory backend; when Redis is reached for redis). */
  ready (): Promise<void>
  /** Whether the bus can serve now: `connecting` until it first could, `down` while it cannot. */
  readonly state: 'connecting' | 'up' | 'down'
  close (): Promise<void>
}
