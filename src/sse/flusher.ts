/**
 * When the hub writes, and in what slices: events gather in a window per group of sessions, and
 * a flush writes each group's window to each of its sessions. What one session makes of a batch
 * (held during its hand-over, or trimmed to what its replay did not cover) is Session.deliver.
 *
 * - After a quiet spell an event is flushed at once: in a microtask, so events published in one
 *   go still go out together, and before the publisher's own HTTP reply.
 * - Under a high rate, flushes come at most every `intervalMs`; events wait and go out together.
 * - Writing goes at most WRITES_PER_TURN sessions per turn of the event loop, so publishes and
 *   new streams are served in between; the next window waits until the flush is done, so each
 *   session gets windows in order. Heartbeats are written the same way, after any flush being
 *   written.
 * - If events piled up while a flush was writing, the next flush waits as long as that one took:
 *   writing takes at most about half the time, and batches grow instead (fewer syscalls per event
 *   on both ends).
 */
import { performance } from 'node:perf_hooks'
import type { Group } from './groups.ts'
import type { Batch, Session } from './session.ts'
import type { PendingFrame } from './handover.ts'

/** Window size that triggers a flush at once (bounds memory and batch size in bursts). */
const FLUSH_AT_BYTES = 256 * 1024

/**
 * Sessions written per turn of the event loop. A write to a socket costs a few microseconds (it
 * is a syscall), so this bounds a slice to a few milliseconds.
 */
export const WRITES_PER_TURN = 512

/** Sessions to write to: a batch of frames, or (no batch) a heartbeat. */
interface Job {
  readonly sessions: readonly Session[]
  readonly batch: Batch | undefined
}

interface Writing {
  readonly jobs: Job[]
  job: number
  session: number
  readonly startedAt: number
  /** Whether a flush (not only heartbeats) is being written. */
  readonly flush: boolean
}

export class Flusher {
  readonly #intervalMs: number
  readonly #heartbeat: Buffer
  /** Groups with frames waiting for the next flush. */
  #dirty: Group[] = []
  /** Bytes waiting in the window; past FLUSH_AT_BYTES the window is written at once. */
  #windowBytes = 0
  #scheduled = false
  /** The scheduled flush, when it waits for a timer or the next turn (a microtask cannot be cancelled: #closed stops it). */
  #flushTimeout: NodeJS.Timeout | undefined
  #flushImmediate: NodeJS.Immediate | undefined
  /** The next slice of the writing in progress. */
  #sliceImmediate: NodeJS.Immediate | undefined
  #lastFlushAt = 0
  /** No flush before this time (performance.now()): the pause after a flush that fell behind. */
  #pauseUntil = 0
  #writing: Writing | undefined
  #closed = false

  constructor (intervalMs: number, heartbeat: Buffer) {
    this.#intervalMs = intervalMs
    this.#heartbeat = heartbeat
  }

  /** Adds `frame` to `group`'s window; call schedule() once the event's frames are all added. */
  add (group: Group, frame: PendingFrame): void {
    if (group.frames.length === 0) this.#dirty.push(group)
    group.frames.push(frame)
    this.#windowBytes += frame.frame.length
  }

  /** Makes sure a flush will write the window. */
  schedule (): void {
    if (this.#closed || this.#writing !== undefined || this.#dirty.length === 0) return
    if (this.#windowBytes > FLUSH_AT_BYTES) {
      this.#flushWindow()
      return
    }
    if (this.#scheduled) return
    this.#scheduled = true
    const wait = Math.max(this.#lastFlushAt + this.#intervalMs, this.#pauseUntil) - performance.now()
    if (wait > 1) this.#flushTimeout = setTimeout(this.#flush, wait)
    else if (wait > 0) this.#flushImmediate = setImmediate(this.#flush)
    else queueMicrotask(this.#flush)
  }

  /** Writes the heartbeat to `sessions`, in slices like a flush (after the flush being written, if any). */
  heartbeat (sessions: readonly Session[]): void {
    if (this.#closed || sessions.length === 0) return
    const job = { sessions, batch: undefined }
    if (this.#writing !== undefined) {
      this.#writing.jobs.push(job)
      return
    }
    this.#writing = { jobs: [job], job: 0, session: 0, startedAt: performance.now(), flush: false }
    this.#writeSlice()
  }

  /** Stops: nothing more is flushed or written, and no timer is left behind. */
  close (): void {
    this.#closed = true
    this.#writing = undefined
    clearTimeout(this.#flushTimeout)
    clearImmediate(this.#flushImmediate)
    clearImmediate(this.#sliceImmediate)
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    this.#flushTimeout = undefined
    this.#flushImmediate = undefined
    if (this.#writing === undefined && !this.#closed) this.#flushWindow()
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
    const jobs: Job[] = []
    for (const group of dirty) {
      const frames = group.frames
      group.frames = []
      const first = frames[0]
      if (first === undefined || group.sessions.size === 0) continue
      group.wroteAt = this.#lastFlushAt
      const bytes = frames.length === 1 ? first.frame : Buffer.concat(frames.map((f) => f.frame))
      jobs.push({ sessions: [...group.sessions], batch: { frames, bytes } })
    }
    if (jobs.length === 0) return
    this.#writing = { jobs, job: 0, session: 0, startedAt: this.#lastFlushAt, flush: true }
    this.#writeSlice()
  }

  /** Writes the jobs in progress, at most WRITES_PER_TURN sessions now, the rest in later turns. */
  readonly #writeSlice = (): void => {
    const writing = this.#writing
    if (writing === undefined) return
    let budget = WRITES_PER_TURN
    for (; writing.job < writing.jobs.length; writing.job++, writing.session = 0) {
      const { sessions, batch } = writing.jobs[writing.job] as Job
      while (writing.session < sessions.length) {
        if (budget-- === 0) {
          this.#sliceImmediate = setImmediate(this.#writeSlice)
          return
        }
        const session = sessions[writing.session++] as Session
        if (batch === undefined) session.heartbeat(this.#heartbeat)
        else session.deliver(batch)
      }
    }
    this.#writing = undefined
    if (writing.flush && this.#dirty.length > 0) {
      const now = performance.now()
      this.#pauseUntil = now + (now - writing.startedAt)
    }
    this.schedule()
  }
}
