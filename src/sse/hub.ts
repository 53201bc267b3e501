/**
 * The SSE hub: every open stream, and the one path by which bus events reach them.
 *
 * - One bus subscription for the whole hub; each event is framed once per format (formats.ts).
 * - Sessions that follow the same topics in the same format form a group (groups.ts) and get
 *   identical bytes; the flusher (flusher.ts) decides when and in what slices they are written.
 * - One heartbeat timer for all sessions, written through the flusher. Streams that got events
 *   lately get none: a busy stream costs no extra writes, an idle one gets a comment every
 *   `heartbeatMs`.
 * - Who may open a stream, and how many: admission.ts. Each session ends with its socket.
 * - Opening a stream: register (its live frames are held), ask the bus for the replay plan, send
 *   the head, then hand over (handover.ts, Session.handOver): nothing lost between the plan and
 *   going live, nothing sent twice, whether the bus answers at once or after a round trip.
 * - A frame that cannot be made (a format's renderer failed) is logged and counted, and skipped
 *   for that format's streams only.
 */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import type { Bus, TickerEvent } from '../bus/index.ts'
import { Admission, canCarryStream, type Refusal } from './admission.ts'
import { fanOut, type FrameOf } from './fanout.ts'
import type { StreamFormat } from './formats.ts'
import { commentFrame, retryFrame } from './frame.ts'
import { Flusher } from './flusher.ts'
import { Groups, type Group } from './groups.ts'
import { planHandover } from './handover.ts'
import { replaySlices } from './replay-slices.ts'
import { Session, type SessionContext, type WriteStats } from './session.ts'
import type { StreamWriter } from './writers/index.ts'

export interface HubOptions {
  readonly bus: Bus
  readonly log: FastifyBaseLogger
  /** How bytes reach sockets (writers/). */
  readonly writer: StreamWriter
  /** Every format a stream may ask for, by name. */
  readonly formats: ReadonlyMap<string, StreamFormat>
  /** `retry:` sent first on every stream, in ms. */
  readonly retryMs: number
  /** The longest a stream goes without bytes, in ms (give or take a loop turn). */
  readonly heartbeatMs: number
  /** Bytes a session may fall behind before it is disconnected. */
  readonly maxQueuedBytes: number
  readonly maxConnections: number
  readonly maxConnectionsPerIp: number
  /** The shortest time between two flushes, in ms (flusher.ts). */
  readonly flushIntervalMs: number
}

export type CloseReason = 'client' | 'slow' | 'shutdown' | 'error' | 'expired'

/** Counters since the hub started; read by /metrics. */
export interface HubStats extends WriteStats {
  opened: number
  closed: Record<CloseReason, number>
  /** Streams opened with a resume ID. */
  replays: number
  /** Events written while replaying. */
  replayedEvents: number
  resets: number
  /** Frames a format failed to make (each skipped for that format's streams). */
  frameFailures: number
}

export type { Refusal } from './admission.ts'

export interface OpenOptions {
  readonly ip: string
  readonly topics: readonly string[]
  readonly lastId: string | undefined
  readonly format: StreamFormat
  /** Response headers (content type, CORS, ...). */
  readonly headers: Readonly<Record<string, string | number | string[]>>
  /** When the stream must end (ms since the epoch): its grant expires then. */
  readonly endsAt?: number
}

/** A replay above this size goes out in slices, each when the peer took the one before. */
const REPLAY_SLICE_BYTES = 64 * 1024

const HEARTBEAT = commentFrame('heartbeat')
const SHUTDOWN = commentFrame('server shutting down')
const EXPIRED = commentFrame('access expired: reconnect with a fresh token')
const MAX_TIMER_MS = 2 ** 31 - 1

export class SseHub {
  readonly #options: HubOptions
  readonly #retry: Buffer
  readonly #sliceBytes: number
  readonly #sessions = new Set<Session>()
  readonly #groups = new Groups()
  readonly #flusher: Flusher
  readonly #admission: Admission
  /** Connections of streams ended by close(), until they close. */
  readonly #ending = new Set<Socket>()
  readonly #stats: HubStats = {
    opened: 0,
    closed: { client: 0, slow: 0, shutdown: 0, error: 0, expired: 0 },
    eventsDelivered: 0,
    bytesWritten: 0,
    writes: 0,
    replays: 0,
    replayedEvents: 0,
    resets: 0,
    frameFailures: 0
  }

  /** Events a format failed to frame (as long as the event lives). */
  readonly #unframeable = new WeakMap<TickerEvent, Set<StreamFormat>>()
  readonly #context: SessionContext
  readonly #unsubscribe: () => void
  readonly #heartbeat: NodeJS.Timeout
  /** When the heartbeat timer last fired (performance.now()). */
  #lastTick = -Infinity

  constructor (options: HubOptions) {
    this.#options = options
    this.#retry = retryFrame(options.retryMs)
    this.#sliceBytes = Math.max(1, Math.min(REPLAY_SLICE_BYTES, Math.floor(options.maxQueuedBytes / 2)))
    this.#admission = new Admission(options)
    this.#flusher = new Flusher(options.flushIntervalMs, HEARTBEAT)
    this.#context = { stats: this.#stats, maxQueuedBytes: options.maxQueuedBytes, onSlow: (session) => this.#slow(session) }
    // A gap (live events this instance missed): every stream ends, and its client resumes from history.
    this.#unsubscribe = options.bus.subscribe((event) => fanOut(event, this.#groups, this.#flusher, this.#frame),
      () => { for (const session of this.#sessions) this.#drop(session, 'error') })
    // Ticks at half the interval: a group written to since the last tick is skipped, so no stream
    // waits longer than the interval for bytes, and an idle one gets a comment every other tick.
    this.#heartbeat = setInterval(() => this.#tick(), options.heartbeatMs / 2).unref()
  }

  /** True once close() was called: new streams are refused. */
  get closing (): boolean { return this.#admission.closing }

  /** Open streams now. */
  get size (): number { return this.#sessions.size }

  /** Which writer puts bytes on sockets. */
  get writer (): StreamWriter['name'] { return this.#options.writer.name }

  /** Every topic a stream here follows. */
  followedTopics (): ReadonlySet<string> {
    return this.#groups.topics()
  }

  /** The names of the formats streams may ask for. */
  get formatNames (): string[] { return [...this.#options.formats.keys()] }

  /** The format named `name`, if streams may ask for it. */
  format (name: string): StreamFormat | undefined {
    return this.#options.formats.get(name)
  }

  /** Sessions following `topic` now. */
  subscribers (topic: string): number {
    return this.#groups.subscribers(topic)
  }

  /** A snapshot of the hub's counters. */
  stats (): Readonly<HubStats> {
    return { ...this.#stats, closed: { ...this.#stats.closed } }
  }

  /** Why a stream from `ip` may not open now (the refusal is counted); undefined when it may. */
  refusal (ip: string): Refusal | undefined {
    return this.#admission.refusal(ip, this.#sessions.size)
  }

  /** Streams refused since start, by limit. */
  refusedCounts (): Readonly<Record<Refusal, number>> {
    return this.#admission.refusedCounts()
  }

  /**
   * Takes over `res`: head, `retry:`, replay or reset, then live events until either side closes.
   * A response whose connection is gone, or that waits behind another on its connection, opens
   * nothing.
   */
  async open (res: ServerResponse, { ip, topics, lastId, headers, format, endsAt }: OpenOptions): Promise<void> {
    if (!canCarryStream(res)) return
    const session = new Session(res, ip, topics, format, this.#context)
    this.#stats.opened++
    if (lastId !== undefined) this.#stats.replays++
    const group = this.#add(session)
    // The response (which holds the socket, see canCarryStream) closes when its socket does; its
    // listener list is shorter than the socket's, so this costs less per stream (docs/BENCHMARKS.md).
    res.on('close', () => this.#remove(session, 'client'))
    if (endsAt !== undefined) this.#endAt(session, endsAt)

    let plan
    try {
      plan = await this.#options.bus.replay(topics, lastId)
    } catch (err) {
      // A bus that cannot serve (Redis lost) logged that once itself; anything else is news.
      if ((err as { code?: string }).code !== 'TICKER_ERR_BUS_UNAVAILABLE') {
        this.#options.log.error({ err, topics }, 'replay failed; closing the stream so the client retries')
      }
      this.#drop(session, 'error')
      return
    }
    if (session.closed) return
    // The head waits for the plan: head, `retry:` and replay then leave in one write (the head's
    // write is corked until the end of this tick, and the replay joins it).
    session.start(this.#options.writer, headers, this.#retry)
    const handover = planHandover(plan, session.held, format.replayKey)
    if (handover.reset !== undefined) this.#stats.resets++
    if (lastId !== undefined) this.#stats.replayedEvents += handover.events.length
    session.handOver(replaySlices(group, handover, this.#replayFrame, this.#sliceBytes), handover.liveAfterSeq)
  }

  /**
   * Ends every stream (a comment first, so logs show why) and its connection, and stops the
   * heartbeat. Connections whose peer has not taken the last bytes stay open until
   * destroyEnded().
   */
  close (): void {
    if (this.#admission.closing) return
    this.#admission.close()
    clearInterval(this.#heartbeat)
    this.#flusher.close()
    this.#unsubscribe()
    for (const session of this.#sessions) {
      if (!session.started) {
        // Still waiting for its replay plan, so no head was sent: drop the connection, and the
        // client reconnects (an empty 200 would not be an event stream, and EventSource would give up).
        this.#drop(session, 'shutdown')
        continue
      }
      const socket = session.end(SHUTDOWN)
      this.#remove(session, 'shutdown')
      if (socket === null) continue
      this.#ending.add(socket)
      socket.once('close', () => this.#ending.delete(socket))
    }
  }

  /**
   * Ends `session` at `endsAt` (its grant expires): a comment saying so, then the end of the
   * response; the client reconnects with a fresh token and resumes from its last ID.
   */
  #endAt (session: Session, endsAt: number): void {
    let timer: NodeJS.Timeout | undefined
    const wait = (): void => {
      const left = endsAt - Date.now()
      if (left > 0) {
        // A timer holds at most 2^31-1 ms (24.8 days); a later end is waited for in steps.
        timer = setTimeout(wait, Math.min(left, MAX_TIMER_MS))
        return
      }
      if (session.closed) return
      if (!session.started) {
        this.#drop(session, 'expired')
        return
      }
      session.end(EXPIRED)
      this.#remove(session, 'expired')
    }
    wait()
    session.res.once('close', () => clearTimeout(timer))
  }

  /** Destroys the connections close() ended that are still open (a peer that stopped reading). */
  destroyEnded (): void {
    for (const socket of this.#ending) socket.destroy()
  }

  /**
   * The frame of `event` in `format`, or undefined when the format cannot make it: logged and
   * counted once per event and format (replays ask again; they are told at once).
   */
  readonly #frame: FrameOf = (format, event) => this.#framed(format, event, format.frame)

  /** A replayed event's frame: the format's replay frame where it has one (see StreamFormat). */
  readonly #replayFrame: FrameOf = (format, event) => this.#framed(format, event, format.replayFrame ?? format.frame)

  #framed (format: StreamFormat, event: TickerEvent, make: (event: TickerEvent) => Buffer): Buffer | undefined {
    if (this.#unframeable.get(event)?.has(format) === true) return undefined
    try {
      return make.call(format, event)
    } catch (err) {
      const failed = this.#unframeable.get(event) ?? new Set()
      this.#unframeable.set(event, failed.add(format))
      this.#stats.frameFailures++
      this.#options.log.error({ err, format: format.name, topic: event.topic, id: event.id },
        'an event could not be framed; streams of this format skip it')
      return undefined
    }
  }

  /** Heartbeats for the live sessions of every group that was not written to since the last tick. */
  #tick (): void {
    const now = performance.now()
    const since = this.#lastTick
    this.#lastTick = now
    const sessions: Session[] = []
    for (const group of this.#groups.all()) {
      if (group.wroteAt >= since) continue
      group.wroteAt = now
      for (const session of group.sessions) if (session.live) sessions.push(session)
    }
    this.#flusher.heartbeat(sessions)
  }

  #slow (session: Session): void {
    this.#options.log.warn({ ip: session.ip, topics: session.topics }, 'disconnecting a slow SSE reader')
    this.#drop(session, 'slow')
  }

  #drop (session: Session, reason: CloseReason): void {
    this.#remove(session, reason)
    session.destroy()
  }

  #add (session: Session): Group {
    this.#sessions.add(session)
    this.#admission.enter(session.ip)
    return this.#groups.add(session)
  }

  /** Forgets a session; idempotent, so the 'close' that follows a drop changes nothing. */
  #remove (session: Session, reason: CloseReason): void {
    if (!this.#sessions.delete(session)) return
    session.close()
    this.#stats.closed[reason]++
    this.#admission.leave(session.ip)
    this.#groups.remove(session)
  }
}
