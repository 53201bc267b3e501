/**
 * The SSE hub: every open stream, and the one path by which bus events reach them.
 *
 * - One bus subscription for the whole hub; each event is encoded once (frame.ts) and the same
 *   bytes are written to every session following its topic.
 * - One heartbeat timer for all sessions.
 * - A session whose unsent bytes pass `maxQueuedBytes` is disconnected: the server never buffers
 *   without bound for a slow reader.
 * - Opening a stream: register (holding live frames back), ask the bus for the replay plan, write
 *   reset/replay, then release held frames newer than the plan. Nothing is lost between the plan
 *   and going live, nothing is sent twice — whether the bus answers at once or after a round trip.
 */
import type { ServerResponse, OutgoingHttpHeaders } from 'node:http'
import type { FastifyBaseLogger } from 'fastify'
import type { Bus, TickerEvent } from '../bus/index.ts'
import { commentFrame, controlFrame, eventFrame, retryFrame } from './frame.ts'
import { Session, type StreamFormat } from './session.ts'

export interface HubOptions {
  readonly bus: Bus
  readonly log: FastifyBaseLogger
  /** `retry:` sent first on every stream, in ms. */
  readonly retryMs: number
  /** Interval of the shared heartbeat comment, in ms. */
  readonly heartbeatMs: number
  /** Unsent bytes allowed per session before it is disconnected. */
  readonly maxQueuedBytes: number
  readonly maxConnections: number
  readonly maxConnectionsPerIp: number
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
  readonly #byTopic = new Map<string, Set<Session>>()
  readonly #perIp = new Map<string, number>()
  readonly #stats: HubStats = {
    opened: 0,
    closed: { client: 0, slow: 0, shutdown: 0, error: 0 },
    eventsDelivered: 0,
    bytesWritten: 0,
    replays: 0,
    replayedEvents: 0,
    resets: 0
  }

  readonly #refused: Record<Refusal, number> = { closing: 0, total: 0, 'per-ip': 0 }
  readonly #unsubscribe: () => void
  readonly #heartbeat: NodeJS.Timeout
  #closing = false

  constructor (options: HubOptions) {
    this.#options = options
    this.#retry = retryFrame(options.retryMs)
    this.#unsubscribe = options.bus.subscribe((event) => this.#fanOut(event))
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatMs).unref()
  }

  /** True once close() was called: new streams are refused. */
  get closing (): boolean { return this.#closing }

  /** Open streams now. */
  get size (): number { return this.#sessions.size }

  /** Sessions following `topic` now. */
  subscribers (topic: string): number {
    return this.#byTopic.get(topic)?.size ?? 0
  }

  /** Streams closed since start, by reason. */
  closedCounts (): Readonly<Record<CloseReason, number>> {
    return { ...this.#stats.closed }
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
    const defined: OutgoingHttpHeaders = {}
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) defined[name] = value
    res.writeHead(200, defined)
    res.write(this.#retry)
    this.#stats.bytesWritten += this.#retry.length
    this.#stats.opened++
    if (lastId !== undefined) this.#stats.replays++
    this.#add(session)
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
    if (plan.reset !== undefined) {
      this.#stats.resets++
      this.#write(session, controlFrame('reset', plan.reset))
    }
    // An html frame is a whole tile, so only the last of each topic matters.
    const events = session.format === 'html' ? lastOfEachTopic(plan.events) : plan.events
    if (lastId !== undefined) this.#stats.replayedEvents += events.length
    for (const event of events) this.#write(session, this.#frame(event, session.format), true)
    const held = session.pending ?? []
    session.pending = undefined
    session.pendingBytes = 0
    for (const { seq, frame } of held) {
      if (seq > plan.headSeq) this.#write(session, frame, true)
    }
  }

  /** Ends every stream (a comment first, so logs show why) and stops the heartbeat. */
  close (): void {
    if (this.#closing) return
    this.#closing = true
    clearInterval(this.#heartbeat)
    this.#unsubscribe()
    for (const session of this.#sessions) {
      this.#remove(session, 'shutdown')
      session.res.end(SHUTDOWN)
      this.#stats.bytesWritten += SHUTDOWN.length
    }
  }

  #frame (event: TickerEvent, format: StreamFormat): Buffer {
    return format === 'html' && this.#options.htmlFrame !== undefined ? this.#options.htmlFrame(event) : eventFrame(event)
  }

  #fanOut (event: TickerEvent): void {
    const sessions = this.#byTopic.get(event.topic)
    if (sessions === undefined) return
    let json: Buffer | undefined
    let html: Buffer | undefined
    for (const session of sessions) {
      // Each format is encoded at most once per event, whatever the number of sessions.
      const frame = session.format === 'html'
        ? (html ??= this.#frame(event, 'html'))
        : (json ??= eventFrame(event))
      if (session.pending === undefined) {
        this.#write(session, frame, true)
      } else {
        session.pending.push({ seq: event.seq, frame })
        session.pendingBytes += frame.length
        this.#checkBacklog(session)
      }
    }
  }

  #beat (): void {
    for (const session of this.#sessions) this.#write(session, HEARTBEAT)
  }

  #write (session: Session, frame: Buffer, isEvent = false): void {
    if (session.closed) return
    session.res.write(frame)
    this.#stats.bytesWritten += frame.length
    if (isEvent) this.#stats.eventsDelivered++
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

  #add (session: Session): void {
    this.#sessions.add(session)
    this.#perIp.set(session.ip, (this.#perIp.get(session.ip) ?? 0) + 1)
    for (const topic of session.topics) {
      let set = this.#byTopic.get(topic)
      if (set === undefined) this.#byTopic.set(topic, (set = new Set()))
      set.add(session)
    }
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
    for (const topic of session.topics) {
      const set = this.#byTopic.get(topic)
      set?.delete(session)
      if (set?.size === 0) this.#byTopic.delete(topic)
    }
  }
}
