/**
 * The SSE hub: every open stream, and the one path by which bus events reach them.
 *
 * - One bus subscription for the whole hub; each event is encoded once (frame.ts).
 * - Sessions that follow the same topics in the same format form a group (groups.ts) and get
 *   identical bytes. Events are coalesced: at a flush each group's frames are joined into one
 *   HTTP chunk, built once and written to every session of the group with one socket write.
 *   When flushes happen, and in what slices, is flusher.ts; what each session gets is here.
 * - One heartbeat timer for all sessions. Streams that got events lately need no heartbeat and get
 *   none: a busy stream costs no extra writes, an idle one gets a comment every `heartbeatMs`.
 * - A session whose unsent bytes pass `maxQueuedBytes` is disconnected: the server never buffers
 *   without bound for a slow reader.
 * - Opening a stream: register (holding live frames back), ask the bus for the replay plan, write
 *   the head with reset/replay, then release held frames newer than the plan. Nothing is lost
 *   between the plan and going live, nothing is sent twice — whether the bus answers at once or
 *   after a round trip.
 */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import type { Bus, ReplayPlan, TickerEvent } from '../bus/index.ts'
import { commentFrame, controlFrame, eventFrame, httpChunk, joinAsChunk, retryFrame } from './frame.ts'
import { Flusher, WRITES_PER_TURN, type Batch } from './flusher.ts'
import { Groups, type Group, type ReplayBytes } from './groups.ts'
import { Session, type PendingFrame, type StreamFormat } from './session.ts'

export interface HubOptions {
  readonly bus: Bus
  readonly log: FastifyBaseLogger
  /** `retry:` sent first on every stream, in ms. */
  readonly retryMs: number
  /**
   * The longest a stream goes without bytes, in ms (give or take a loop turn): a heartbeat comment
   * goes to the streams that got nothing for about this long.
   */
  readonly heartbeatMs: number
  /** Unsent bytes allowed per session before it is disconnected. */
  readonly maxQueuedBytes: number
  readonly maxConnections: number
  readonly maxConnectionsPerIp: number
  /**
   * The shortest time between two flushes, in ms. An event after a quiet spell is written as
   * soon as the code that published it is done (a microtask); under a high rate, events wait (at
   * most this long) and go out together. 0: never wait.
   */
  readonly flushIntervalMs: number
  /** Frames for `format: 'html'` sessions; without it, such sessions get JSON frames. */
  readonly htmlFrame?: (event: TickerEvent) => Buffer
}

export type CloseReason = 'client' | 'slow' | 'shutdown' | 'error'

/** Counters since the hub started; read by /metrics. */
export interface HubStats {
  opened: number
  closed: Record<CloseReason, number>
  /** Event frames written (one per event per session; heartbeats and control frames excluded). */
  eventsDelivered: number
  /** Every byte written to streams. */
  bytesWritten: number
  /** Writes to streams: one per stream per flush (however many events it carries), heartbeats and replays included. */
  writes: number
  /** Streams opened with a resume ID. */
  replays: number
  /** Events written while replaying. */
  replayedEvents: number
  resets: number
}

/** Why a new stream cannot be admitted, if it cannot. */
export type Refusal = 'closing' | 'total' | 'per-ip'

export interface OpenOptions {
  readonly ip: string
  readonly topics: readonly string[]
  readonly lastId: string | undefined
  /** Defaults to json. */
  readonly format?: StreamFormat
  /** Response headers (content type, CORS, ...); undefined values are left out. */
  readonly headers: Readonly<Record<string, string | number | string[] | undefined>>
}

/** The last event of each topic, in bus order. */
function lastOfEachTopic (events: readonly TickerEvent[]): TickerEvent[] {
  const last = new Map<string, TickerEvent>()
  for (const event of events) last.set(event.topic, event)
  return [...last.values()].sort((a, b) => a.seq - b.seq)
}

const HEARTBEAT = commentFrame('heartbeat')
const SHUTDOWN = commentFrame('server shutting down')

export class SseHub {
  readonly #options: HubOptions
  readonly #retry: Buffer
  readonly #sessions = new Set<Session>()
  readonly #groups = new Groups()
  readonly #flusher: Flusher
  readonly #perIp = new Map<string, number>()
  /** Connections of streams ended by close(), until they close. */
  readonly #ending = new Set<Socket>()
  readonly #stats: HubStats = {
    opened: 0,
    closed: { client: 0, slow: 0, shutdown: 0, error: 0 },
    eventsDelivered: 0,
    bytesWritten: 0,
    writes: 0,
    replays: 0,
    replayedEvents: 0,
    resets: 0
  }

  readonly #refused: Record<Refusal, number> = { closing: 0, total: 0, 'per-ip': 0 }
  readonly #unsubscribe: () => void
  readonly #heartbeat: NodeJS.Timeout
  /** When the heartbeat timer last fired (performance.now()). */
  #lastTick = -Infinity
  #closing = false

  constructor (options: HubOptions) {
    this.#options = options
    this.#retry = retryFrame(options.retryMs)
    this.#flusher = new Flusher(options.flushIntervalMs, (batch, session) => this.#deliver(batch, session))
    this.#unsubscribe = options.bus.subscribe((event) => this.#fanOut(event))
    // Ticks at half the interval: a group written to since the last tick is skipped, so no stream
    // waits longer than the interval for bytes, and an idle one gets a comment every other tick.
    this.#heartbeat = setInterval(() => this.#tick(), options.heartbeatMs / 2).unref()
  }

  /** True once close() was called: new streams are refused. */
  get closing (): boolean { return this.#closing }

  /** Open streams now. */
  get size (): number { return this.#sessions.size }

  /** Sessions following `topic` now. */
  subscribers (topic: string): number {
    return this.#groups.subscribers(topic)
  }

  /** A snapshot of the hub's counters. */
  stats (): Readonly<HubStats> {
    return { ...this.#stats, closed: { ...this.#stats.closed } }
  }

  /** Whether a stream from `ip` may open now; a refusal is counted. */
  refusal (ip: string): Refusal | undefined {
    const refusal = this.#closing
      ? 'closing'
      : this.#sessions.size >= this.#options.maxConnections
        ? 'total'
        : (this.#perIp.get(ip) ?? 0) >= this.#options.maxConnectionsPerIp ? 'per-ip' : undefined
    if (refusal !== undefined) this.#refused[refusal]++
    return refusal
  }

  /** Streams refused since start, by limit. */
  refusedCounts (): Readonly<Record<Refusal, number>> {
    return { ...this.#refused }
  }

  /** Takes over `res`: headers, `retry:`, replay or reset, then live events until either side closes. */
  async open (res: ServerResponse, { ip, topics, lastId, headers, format = 'json' }: OpenOptions): Promise<void> {
    const session = new Session(res, ip, topics, format)
    const defined: Record<string, string | number | string[]> = {}
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) defined[name] = value
    this.#stats.opened++
    if (lastId !== undefined) this.#stats.replays++
    const group = this.#add(session)
    res.on('close', () => this.#remove(session, 'client'))

    let plan
    try {
      plan = await this.#options.bus.replay(topics, lastId)
    } catch (err) {
      this.#options.log.error({ err, topics }, 'replay failed; closing the stream so the client retries')
      this.#drop(session, 'error')
      return
    }
    if (session.closed) return
    // The head waits for the plan: head, `retry:` and replay then leave in one write (the head's
    // write is corked until the end of this tick, and the replay joins it).
    session.start(200, defined, this.#retry)
    this.#stats.bytesWritten += this.#retry.length
    // An html frame is a whole tile, so only the last of each topic matters.
    const events = session.format === 'html' ? lastOfEachTopic(plan.events) : plan.events
    if (plan.reset !== undefined) this.#stats.resets++
    if (lastId !== undefined) this.#stats.replayedEvents += events.length
    const replay = this.#replayBytes(group, plan.reset, events)
    // Reset, replay and the live frames held meanwhile go out as one write (a reconnect storm
    // is thousands of these at once).
    const held: Buffer[] = []
    for (const { seq, frame } of session.pending ?? []) if (seq > plan.headSeq) held.push(frame)
    session.pending = undefined
    session.pendingBytes = 0
    session.liveAfterSeq = plan.headSeq
    const count = events.length + held.length
    if (held.length === 0) {
      if (replay !== undefined) this.#write(session, replay.bytes, count, replay.chunk)
    } else {
      const { bytes, chunk } = joinAsChunk(replay === undefined ? held : [replay.bytes, ...held])
      this.#write(session, bytes, count, chunk)
    }
  }

  /**
   * The reset and replayed events as one chunk, shared with the group's other sessions that
   * resume from the same point (compared event by event: a plan is built from the bus's event
   * objects). Undefined when there is nothing to replay.
   */
  #replayBytes (group: Group, reset: ReplayPlan['reset'], events: readonly TickerEvent[]): ReplayBytes | undefined {
    if (reset === undefined && events.length === 0) return undefined
    const resetJson = reset === undefined ? undefined : JSON.stringify(reset)
    const cached = group.replay
    if (cached !== undefined && cached.reset === resetJson && cached.events.length === events.length &&
      cached.events.every((event, i) => event === events[i])) return cached
    const parts: Buffer[] = []
    if (resetJson !== undefined) parts.push(controlFrame('reset', reset))
    for (const event of events) parts.push(this.#frame(event, group.format))
    const { bytes, chunk } = joinAsChunk(parts)
    group.replay = { reset: resetJson, events, bytes, chunk }
    return group.replay
  }

  /**
   * Ends every stream (a comment first, so logs show why) and its connection, and stops the
   * heartbeat. Connections whose peer has not taken the last bytes stay open until
   * destroyEnded().
   */
  close (): void {
    if (this.#closing) return
    this.#closing = true
    clearInterval(this.#heartbeat)
    this.#unsubscribe()
    for (const session of this.#sessions) {
      if (!session.started) {
        // Still waiting for its replay plan, so no head was sent: drop the connection, and the
        // client reconnects (an empty 200 would not be an event stream, and EventSource would give up).
        this.#drop(session, 'shutdown')
        continue
      }
      this.#write(session, SHUTDOWN)
      this.#remove(session, 'shutdown')
      const socket = session.res.socket
      session.res.end()
      if (socket === null) continue
      // No other request follows on a stream's connection (and its parser may be released,
      // so the server no longer tracks it as idle): end it here.
      socket.end()
      this.#ending.add(socket)
      socket.once('close', () => this.#ending.delete(socket))
    }
  }

  /** Destroys the connections close() ended that are still open (a peer that stopped reading). */
  destroyEnded (): void {
    for (const socket of this.#ending) socket.destroy()
  }

  #frame (event: TickerEvent, format: StreamFormat): Buffer {
    return format === 'html' && this.#options.htmlFrame !== undefined ? this.#options.htmlFrame(event) : eventFrame(event)
  }

  #fanOut (event: TickerEvent): void {
    const groups = this.#groups.following(event.topic)
    if (groups === undefined) return
    let json: Buffer | undefined
    let html: Buffer | undefined
    for (const group of groups) {
      // Each format is encoded at most once per event, whatever the number of sessions.
      const frame = group.format === 'html'
        ? (html ??= this.#frame(event, 'html'))
        : (json ??= eventFrame(event))
      this.#flusher.add(group, { seq: event.seq, frame })
      group.replay = undefined // resuming sessions now get this event too: their replay differs
    }
    this.#flusher.schedule()
  }

  /** What one session gets of a flushed batch: held back during its replay, or what the replay did not cover. */
  #deliver (batch: Batch, session: Session): void {
    const { frames, bytes } = batch
    const first = frames[0] as PendingFrame
    if (session.closed) return
    if (session.pending !== undefined) {
      for (const f of frames) session.pending.push(f)
      session.pendingBytes += bytes.length
      this.#checkBacklog(session)
    } else if (first.seq > session.liveAfterSeq) {
      if (session.socket !== null) batch.chunk ??= httpChunk(bytes)
      this.#write(session, bytes, frames.length, batch.chunk)
    } else {
      // Went live during this window: its replay already covered the older frames.
      const newer = frames.filter((f) => f.seq > session.liveAfterSeq)
      if (newer.length > 0) {
        const { bytes, chunk } = joinAsChunk(newer.map((f) => f.frame))
        this.#write(session, bytes, newer.length, chunk)
      }
    }
  }

  /** Sends the heartbeat to the sessions of every group that was not written to since the last tick. */
  #tick (): void {
    const now = performance.now()
    const since = this.#lastTick
    this.#lastTick = now
    const sessions: Session[] = []
    for (const group of this.#groups.all()) {
      if (group.wroteAt >= since) continue
      group.wroteAt = now
      // A session still waiting for its replay plan has no head yet; it gets bytes soon.
      for (const session of group.sessions) if (session.started) sessions.push(session)
    }
    if (sessions.length > 0) this.#beat(sessions)
  }

  /** Writes the heartbeat to `sessions`, WRITES_PER_TURN per turn of the loop, like a flush. */
  #beat (sessions: readonly Session[], from = 0): void {
    const end = Math.min(sessions.length, from + WRITES_PER_TURN)
    for (let i = from; i < end; i++) this.#write(sessions[i] as Session, HEARTBEAT)
    if (end < sessions.length && !this.#closing) setImmediate(() => this.#beat(sessions, end))
  }

  /** Writes `bytes` (holding `events` event frames) to one session, then checks its backlog. */
  #write (session: Session, bytes: Buffer, events = 0, chunk?: Buffer): void {
    if (session.closed) return
    session.write(bytes, chunk)
    this.#stats.bytesWritten += bytes.length
    this.#stats.writes++
    this.#stats.eventsDelivered += events
    this.#checkBacklog(session)
  }

  #checkBacklog (session: Session): void {
    if (session.queuedBytes <= this.#options.maxQueuedBytes) return
    this.#options.log.warn({ ip: session.ip, topics: session.topics, queuedBytes: session.queuedBytes },
      'disconnecting a slow SSE reader')
    this.#drop(session, 'slow')
  }

  #drop (session: Session, reason: CloseReason): void {
    this.#remove(session, reason)
    session.res.destroy()
  }

  #add (session: Session): Group {
    this.#sessions.add(session)
    this.#perIp.set(session.ip, (this.#perIp.get(session.ip) ?? 0) + 1)
    return this.#groups.add(session)
  }

  /** Forgets a session; idempotent, so the 'close' that follows a drop changes nothing. */
  #remove (session: Session, reason: CloseReason): void {
    if (session.closed) return
    session.closed = true
    session.pending = undefined
    this.#stats.closed[reason]++
    this.#sessions.delete(session)
    const count = (this.#perIp.get(session.ip) ?? 1) - 1
    if (count === 0) this.#perIp.delete(session.ip)
    else this.#perIp.set(session.ip, count)
    this.#groups.remove(session)
  }
}
