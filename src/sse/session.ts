/**
 * One open stream: where its bytes go, the topics and format it follows, and where it is in its
 * life. It owns its invariants; the hub and the flusher only call its methods.
 *
 *     opening ──start(), handOver()──► replaying ──last slice taken──► live ◄──drained──┐
 *        │                                 │                             │ └──► behind ──┘
 *        └───────── close(): socket gone, too slow, shutdown, error ─────┴──► closed
 *
 * - opening: the head is not sent yet (the bus is preparing the replay plan).
 * - replaying: the replay is being written. A long one goes in slices, each when the peer has
 *   taken the one before, so a reader taking a long history is never cut for the server's own
 *   burst.
 * - behind: a live session whose peer left more than `maxQueuedBytes` untaken when new frames
 *   came; nothing more is written until its connection drains.
 * - While not live, frames published for the stream are held, then written (those a replay did
 *   not cover) when it goes live. Held bytes count against `maxQueuedBytes`: past it the session
 *   is dropped as too slow. The size of one write never counts.
 *
 * Kept small on purpose: there is one per open connection.
 */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { joinAsChunk } from './frame.ts'
import type { StreamFormat } from './formats.ts'
import type { PendingFrame } from './handover.ts'
import type { StreamOutput, StreamWriter } from './writers/index.ts'

/** Counters every session adds to; the hub's stats. */
export interface WriteStats {
  /** Event frames written (one per event per session; heartbeats and control frames excluded). */
  eventsDelivered: number
  /** Every byte written to streams. */
  bytesWritten: number
  /** Writes to streams: one per stream per flush (however many events it carries), heartbeats and replays included. */
  writes: number
}

/** What all sessions of one hub share. */
export interface SessionContext {
  readonly stats: WriteStats
  readonly maxQueuedBytes: number
  /** Called when the session fell more than `maxQueuedBytes` behind; the hub drops it. */
  readonly onSlow: (session: Session) => void
}

/** Bytes ready to write, and how many events they carry. */
export interface Slice {
  readonly bytes: Buffer
  /** `bytes` as one HTTP chunk, when already made. */
  readonly chunk?: Buffer
  readonly events: number
}

/** Frames of one flush window of the session's group: the same bytes for each of its sessions. */
export interface Batch {
  readonly frames: readonly PendingFrame[]
  readonly bytes: Buffer
}

export class Session {
  readonly res: ServerResponse
  readonly ip: string
  readonly topics: readonly string[]
  readonly format: StreamFormat
  readonly #context: SessionContext
  #output: StreamOutput | undefined
  /** Live frames held until the hand-over is done; undefined once live. */
  #held: PendingFrame[] | undefined = []
  #heldBytes = 0
  /** Live frames up to this seq were covered by the replay. */
  #liveAfterSeq = 0
  #closed = false

  constructor (res: ServerResponse, ip: string, topics: readonly string[], format: StreamFormat, context: SessionContext) {
    this.res = res
    this.ip = ip
    this.topics = topics
    this.format = format
    this.#context = context
  }

  /** Whether the response head was sent. */
  get started (): boolean { return this.#output !== undefined }

  /** Whether the hand-over is done: the session gets live frames as they come. */
  get live (): boolean { return this.#held === undefined && !this.#closed }

  get closed (): boolean { return this.#closed }

  /** The live frames held so far. */
  get held (): readonly PendingFrame[] { return this.#held ?? [] }

  /** Sends the response head and `first` (the `retry:` frame). */
  start (writer: StreamWriter, headers: Readonly<Record<string, string | number | string[]>>, first: Buffer): void {
    this.#output = writer.start(this.res, 200, headers, first)
    this.#context.stats.bytesWritten += first.length // one write with what follows it in this tick
  }

  /**
   * Writes `replay` (reset and replayed frames, slice by slice), then the held frames after
   * `liveAfterSeq`, and goes live. A replay of one slice leaves with the held frames in one write
   * (a reconnect storm is thousands of these at once); a longer one is written a slice at a time,
   * each when the peer has taken the one before, and the next slice is made only then.
   */
  handOver (replay: Iterator<Slice>, liveAfterSeq: number): void {
    this.#liveAfterSeq = liveAfterSeq
    const first = replay.next()
    const second = first.done === true ? first : replay.next()
    if (second.done !== true) {
      this.#pace(first.value as Slice, second.value, replay)
      return
    }
    this.#goLive(first.done === true ? undefined : first.value)
  }

  /**
   * What the session gets of a flushed batch: written if the peer keeps up; held while the session
   * is not live (opening, replaying, or waiting for its socket to drain); once live, only what the
   * replay did not cover.
   */
  deliver (batch: Batch): void {
    if (this.#closed) return
    if (this.#held === undefined && (this.#output as StreamOutput).queuedBytes > this.#context.maxQueuedBytes) {
      // The peer left more than the limit of earlier writes untaken: hold until its socket drains.
      this.#held = []
      ;(this.#output as StreamOutput).onDrain(() => this.#goLive(undefined))
    }
    if (this.#held !== undefined) {
      for (const frame of batch.frames) this.#held.push(frame)
      this.#heldBytes += batch.bytes.length
      if (this.#heldBytes > this.#context.maxQueuedBytes) this.#context.onSlow(this)
      return
    }
    const { frames, bytes } = batch
    if ((frames[0] as PendingFrame).seq > this.#liveAfterSeq) {
      this.#send(bytes, frames.length)
    } else {
      // Went live during this window: the replay already covered the older frames.
      const newer = frames.filter((f) => f.seq > this.#liveAfterSeq)
      if (newer.length === 0) return
      const joined = joinAsChunk(newer.map((f) => f.frame))
      this.#send(joined.bytes, newer.length, joined.chunk)
    }
  }

  /** A comment that keeps proxies from cutting an idle stream; only to a live session that keeps up. */
  heartbeat (frame: Buffer): void {
    if (!this.live || (this.#output as StreamOutput).queuedBytes > this.#context.maxQueuedBytes) return
    this.#send(frame, 0)
  }

  /**
   * Writes `last` (between frames), ends the response and its connection (no other request can
   * follow on it), and returns that connection, which may stay open until the peer took the rest.
   */
  end (last: Buffer): Socket | null {
    if (this.#output !== undefined && !this.#closed) this.#send(last, 0)
    this.close()
    const socket = this.res.socket
    this.res.end()
    socket?.end()
    return socket
  }

  /** Cuts the connection at once (too slow, or no head could be sent). */
  destroy (): void {
    this.close()
    this.res.destroy()
  }

  /** Forgets everything held; idempotent. */
  close (): void {
    this.#closed = true
    this.#held = undefined
    this.#heldBytes = 0
  }

  /** Writes `slice`; once the peer took it, `next` (and the one after, made then), or goes live. */
  #pace (slice: Slice, next: Slice | undefined, rest: Iterator<Slice>): void {
    this.#send(slice.bytes, slice.events, slice.chunk, (err) => {
      if (err != null || this.#closed) return
      if (next === undefined) {
        this.#goLive(undefined)
        return
      }
      const after = rest.next()
      this.#pace(next, after.done === true ? undefined : after.value, rest)
    })
  }

  /** Writes `last` (the end of the replay, if any) with the held frames it did not cover, and goes live. */
  #goLive (last: Slice | undefined): void {
    if (this.#closed) return
    const held = (this.#held ?? []).filter((f) => f.seq > this.#liveAfterSeq)
    this.#held = undefined
    this.#heldBytes = 0
    if (held.length === 0) {
      if (last !== undefined) this.#send(last.bytes, last.events, last.chunk)
      return
    }
    const frames = held.map((f) => f.frame)
    const { bytes, chunk } = joinAsChunk(last === undefined ? frames : [last.bytes, ...frames])
    this.#send(bytes, (last?.events ?? 0) + held.length, chunk)
  }

  #send (bytes: Buffer, events: number, chunk?: Buffer, done?: (err?: Error | null) => void): void {
    (this.#output as StreamOutput).write(bytes, chunk, done)
    this.#count(bytes.length, events)
  }

  #count (bytes: number, events: number): void {
    const stats = this.#context.stats
    stats.bytesWritten += bytes
    stats.writes++
    stats.eventsDelivered += events
  }
}
