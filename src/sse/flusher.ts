/**
 * When the hub writes, and in what slices: events gather in a window per group of sessions, and
 * a flush writes each group's window to each of its sessions. What one session gets out of a
 * batch (held back during its replay, or trimmed to what its replay did not cover) is the hub's
 * `deliver`.
 *
 * - After a quiet spell an event is flushed at once: in a microtask, so events published in one
 *   go still go out together, and before the publisher's own HTTP reply.
 * - Under a high rate, flushes come at most every `intervalMs`; events wait and go out together.
 * - A flush writes at most WRITES_PER_TURN sessions per turn of the event loop, so publishes and
 *   new streams are served in between; the next window waits until the flush is done, so each
 *   session gets windows in order.
 * - If events piled up while a flush was writing, the next flush waits as long as that one took:
 *   writing takes at most about half the time, and batches grow instead (fewer syscalls per event
 *   on both ends).
 */
import { performance } from 'node:perf_hooks'
import type { Group } from './groups.ts'
import type { PendingFrame, Session } from './session.ts'

/** Window size that triggers a flush at once (bounds memory and batch size in bursts). */
const FLUSH_AT_BYTES = 256 * 1024

/**
 * Sessions written per turn of the event loop. A write to a socket costs a few microseconds (it
 * is a syscall), so this bounds a slice to a few milliseconds.
 */
export const WRITES_PER_TURN = 512

/** One group's window of frames being written: the same bytes for each of its sessions. */
export interface Batch {
  readonly frames: readonly PendingFrame[]
  readonly bytes: Buffer
  /** `bytes` as an HTTP chunk, made when the first session that can take it is reached. */
  chunk: Buffer | undefined
  /** The group's sessions when the flush started. */
  readonly sessions: readonly Session[]
}

export type Deliver = (batch: Batch, session: Session) => void

export class Flusher {
  readonly #intervalMs: number
  readonly #deliver: Deliver
  /** Groups with frames waiting for the next flush. */
  #dirty: Group[] = []
  /** Bytes waiting in the window; past FLUSH_AT_BYTES the window is written at once. */
  #windowBytes = 0
  #scheduled = false
  #lastFlushAt = 0
  /** No flush before this time (performance.now()): the pause after a flush that fell behind. */
  #pauseUntil = 0
  /** The flush being written, and how far it got. */
  #writing: { readonly batches: readonly Batch[], batch: number, session: number } | undefined

  constructor (intervalMs: number, deliver: Deliver) {
    this.#intervalMs = intervalMs
    this.#deliver = deliver
  }

  /** Adds `frame` to `group`'s window; call schedule() once the event's frames are all added. */
  add (group: Group, frame: PendingFrame): void {
    if (group.frames.length === 0) this.#dirty.push(group)
    group.frames.push(frame)
    this.#windowBytes += frame.frame.length
  }

  /** Makes sure a flush will write the window. */
  schedule (): void {
    if (this.#writing !== undefined || this.#dirty.length === 0) return
    if (this.#windowBytes > FLUSH_AT_BYTES) {
      this.#flushWindow()
      return
    }
    if (this.#scheduled) return
    this.#scheduled = true
    const wait = Math.max(this.#lastFlushAt + this.#intervalMs, this.#pauseUntil) - performance.now()
    if (wait > 1) setTimeout(this.#flush, wait)
    else if (wait > 0) setImmediate(this.#flush)
    else queueMicrotask(this.#flush)
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    if (this.#writing === undefined) this.#flushWindow()
  }

  /**
   * Starts writing the window: one buffer per group, shared by its sessions. Sessions are taken
   * as they are now; one that registers later asks the bus for its replay after these events
   * were published, so its plan covers them.
   */
  #flushWindow (): void {
    this.#lastFlushAt = performance.now()
    const dirty = this.#dirty
    this.#dirty = []
    this.#windowBytes = 0
    const batches: Batch[] = []
    for (const group of dirty) {
      const frames = group.frames
      group.frames = []
      const first = frames[0]
      if (first === undefined || group.sessions.size === 0) continue
      group.wroteAt = this.#lastFlushAt
      const bytes = frames.length === 1 ? first.frame : Buffer.concat(frames.map((f) => f.frame))
      batches.push({ frames, bytes, chunk: undefined, sessions: [...group.sessions] })
    }
    if (batches.length === 0) return
    this.#writing = { batches, batch: 0, session: 0 }
    this.#writeSlice()
  }

  /** Writes the flush in progress, at most WRITES_PER_TURN sessions now, the rest in later turns. */
  readonly #writeSlice = (): void => {
    const writing = this.#writing
    if (writing === undefined) return
    let budget = WRITES_PER_TURN
    for (; writing.batch < writing.batches.length; writing.batch++, writing.session = 0) {
      const batch = writing.batches[writing.batch] as Batch
      while (writing.session < batch.sessions.length) {
        if (budget-- === 0) {
          setImmediate(this.#writeSlice)
          return
        }
        this.#deliver(batch, batch.sessions[writing.session++] as Session)
      }
    }
    this.#writing = undefined
    if (this.#dirty.length > 0) {
      const now = performance.now()
      this.#pauseUntil = now + (now - this.#lastFlushAt)
    }
    this.schedule()
  }
}
