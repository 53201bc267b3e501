/**
 * Runs producers on their node-cron schedules, one task each.
 *
 * - No overlap: a tick that finds the previous run still going is skipped (and counted).
 * - Isolation: a run that throws or rejects is logged with the producer's name and counted;
 *   the next tick runs as usual. Nothing a producer does can crash the process.
 * - Timeout: a run longer than the producer's `timeoutMs` is cut off: its signal is aborted,
 *   anything it publishes afterwards is dropped, and the next tick may run.
 * - Coordination: a tick runs only where the coordinator grants the producer's lease (one
 *   instance of a fleet); elsewhere it is a standby tick, neither run nor counted as skipped.
 * - stop(): stops every task, aborts runs in flight and waits for them to settle.
 */
import { createTask, type Logger, type ScheduledTask } from 'node-cron'
import type { FastifyBaseLogger } from 'fastify'
import type { RunCoordinator, RunLease } from '../bus/index.ts'
import type { Producer, ProducerState, RunOutcome, RunReport } from './types.ts'

export interface SchedulerOptions {
  readonly producers: readonly Producer[]
  /** Publishes under the run's lease (the bus refuses it once another instance took over). */
  readonly publish: (topic: string, data: unknown, lease: RunLease) => Promise<string>
  /** Which producers run on this instance now (all of them, unless several instances share Redis). */
  readonly coordinator: RunCoordinator
  readonly log: FastifyBaseLogger
  readonly now?: () => number
}

class RunTimeoutError extends Error {
  constructor (producer: string, timeoutMs: number) {
    super(`run of ${producer} took longer than ${timeoutMs} ms and was cut off`)
    this.name = 'RunTimeoutError'
  }
}

class StoppedError extends Error {
  constructor () {
    super('the scheduler stopped')
    this.name = 'StoppedError'
  }
}

interface Slot {
  readonly producer: Producer
  readonly task: ScheduledTask
  readonly log: FastifyBaseLogger
  inFlight: Promise<void> | undefined
  /** The producer's own promise for the last run, settled either way: stop() waits on it. */
  lastRun: Promise<void>
  controller: AbortController | undefined
  runs: number
  failures: number
  timeouts: number
  skipped: number
  lastRunAt: number | undefined
  lastSuccessAt: number | undefined
  lastError: string | undefined
  lastDurationMs: number | undefined
  /** Failures in a row; the log speaks when this starts, when the reason changes and when it ends. */
  failingRuns: number
}

/**
 * A failure that is no fault of Ticker's (a network error, a feed's server, Redis out of reach,
 * a run that timed out): logged as one line, without a stack.
 */
function isExpected (err: Error): boolean {
  return (err as { expected?: unknown }).expected === true || err instanceof RunTimeoutError ||
    (err as { code?: unknown }).code?.toString().startsWith('TICKER_ERR_') === true
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString())

export class Scheduler {
  readonly #options: SchedulerOptions
  readonly #slots: Slot[]
  readonly #now: () => number
  readonly #runListeners = new Set<(report: RunReport) => void>()
  #started = false
  #stopped = false

  constructor (options: SchedulerOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
    this.#slots = options.producers.map((producer) => {
      const log = options.log.child({ producer: producer.name })
      const slot: Slot = {
        producer,
        log,
        // Our own overlap guard (not node-cron's noOverlap), so skips are counted and logged our way.
        task: createTask(producer.schedule, () => this.#tick(slot), { name: producer.name, logger: cronLogger(log) }),
        inFlight: undefined,
        lastRun: Promise.resolve(),
        controller: undefined,
        runs: 0,
        failures: 0,
        timeouts: 0,
        skipped: 0,
        lastRunAt: undefined,
        lastSuccessAt: undefined,
        lastError: undefined,
        lastDurationMs: undefined,
        failingRuns: 0
      }
      return slot
    })
  }

  get started (): boolean { return this.#started && !this.#stopped }

  /** Calls `listener` after every run (for metrics). Returns the function that removes it. */
  onRun (listener: (report: RunReport) => void): () => void {
    this.#runListeners.add(listener)
    return () => { this.#runListeners.delete(listener) }
  }

  /**
   * Starts every task and runs each producer once right away (those whose lease this instance
   * holds), so nothing waits for its first tick. A producer taken over from another instance
   * runs at its next tick: never off its schedule.
   */
  start (): void {
    if (this.#started) return
    this.#started = true
    for (const slot of this.#slots) {
      slot.task.start()?.catch((err: unknown) => slot.log.error({ err }, 'could not start the schedule'))
      this.#tick(slot)
    }
  }

  /** Runs one producer now (outside its schedule), unless it is already running. Resolves when it is done. */
  async runNow (name: string): Promise<void> {
    const slot = this.#slots.find((s) => s.producer.name === name)
    if (slot === undefined) throw new Error(`no producer named "${name}"`)
    this.#tick(slot)
    await slot.inFlight
  }

  state (): ProducerState[] {
    return this.#slots.map((slot) => ({
      name: slot.producer.name,
      schedule: slot.producer.schedule,
      topics: slot.producer.topics,
      running: slot.inFlight !== undefined,
      runs: slot.runs,
      failures: slot.failures,
      timeouts: slot.timeouts,
      skipped: slot.skipped,
      lastRunAt: iso(slot.lastRunAt),
      lastSuccessAt: iso(slot.lastSuccessAt),
      lastError: slot.lastError ?? null,
      lastDurationMs: slot.lastDurationMs ?? null,
      nextRunAt: this.started ? iso(slot.task.getNextRun()?.getTime()) : null,
      runner: this.#options.coordinator.runnerOf(slot.producer.name) ?? null,
      runsHere: this.#options.coordinator.leaseFor(slot.producer.name) !== undefined
    }))
  }

  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    for (const slot of this.#slots) {
      await slot.task.destroy()
      slot.controller?.abort(new StoppedError())
    }
    // Runs were told to stop; give each up to its own timeout to wind down.
    await Promise.all(this.#slots.map(async (slot) => settledWithin(slot.lastRun, slot.producer.timeoutMs)))
    for (const slot of this.#slots) slot.producer.close?.()
  }

  #tick (slot: Slot): void {
    if (this.#stopped) return
    const lease = this.#options.coordinator.leaseFor(slot.producer.name)
    if (lease === undefined) return // another instance runs it
    if (slot.inFlight !== undefined) {
      slot.skipped++
      slot.log.debug('previous run still going; tick skipped')
      return
    }
    slot.inFlight = this.#run(slot, lease).finally(() => { slot.inFlight = undefined })
  }

  async #run (slot: Slot, lease: RunLease): Promise<void> {
    const { producer, log } = slot
    const controller = new AbortController()
    slot.controller = controller
    const started = this.#now()
    slot.lastRunAt = started
    slot.runs++
    const timer = setTimeout(() => controller.abort(new RunTimeoutError(producer.name, producer.timeoutMs)), producer.timeoutMs)
    const { signal } = controller
    const ctx = {
      log,
      signal,
      now: this.#now,
      publish: async (topic: string, data: unknown): Promise<string> => {
        if (signal.aborted) throw new Error(`publish after the run of ${producer.name} was cut off`)
        return this.#options.publish(topic, data, lease)
      },
      state: {
        load: async () => this.#options.coordinator.loadState(producer.name),
        save: async (state: unknown) => {
          if (!await this.#options.coordinator.saveState(lease, state)) log.info('another instance runs this producer now; its state was not saved here')
        }
      }
    }
    let outcome: RunOutcome = 'ok'
    let error: Error | undefined
    try {
      const run = producer.run(ctx)
      slot.lastRun = run.then(() => {}, () => {})
      await Promise.race([run, rejectOnAbort(signal)])
      slot.lastSuccessAt = this.#now()
      if (slot.failingRuns > 0) log.info({ failedRuns: slot.failingRuns }, `producer ${producer.name} works again`)
      slot.failingRuns = 0
      slot.lastError = undefined
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err))
      outcome = signal.reason instanceof RunTimeoutError ? 'timeout' : 'error'
      if (signal.reason instanceof StoppedError) return
      const changed = slot.failingRuns === 0 || slot.lastError !== error.message
      slot.lastError = error.message
      slot.failingRuns++
      if (outcome === 'timeout') slot.timeouts++
      else slot.failures++
      // One line when a producer starts failing or fails otherwise; the same failure again is debug.
      const details = isExpected(error) ? { reason: error.message, outcome } : { err: error, outcome }
      if (changed) log.warn(details, `producer ${producer.name} failed: ${error.message}`)
      else log.debug({ ...details, failingRuns: slot.failingRuns }, `producer ${producer.name} failed again: ${error.message}`)
    } finally {
      clearTimeout(timer)
      controller.abort(new StoppedError()) // whatever is left of the run may not publish any more
      slot.controller = undefined
      slot.lastDurationMs = this.#now() - started
    }
    const report: RunReport = { producer: producer.name, outcome, durationMs: slot.lastDurationMs, ...(error === undefined ? {} : { error }) }
    for (const listener of this.#runListeners) listener(report)
  }
}

/** node-cron's own messages (missed executions and the like) go to our log, not the console. */
function cronLogger (log: FastifyBaseLogger): Logger {
  return {
    info: (message) => log.info(message),
    warn: (message) => log.warn(message),
    error: (message, err) => log.error({ err }, String(message)),
    debug: (message, err) => log.debug({ err }, String(message))
  }
}

/** Resolves when `promise` settles or after `ms`, whichever comes first. */
async function settledWithin (promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })])
  clearTimeout(timer)
}

/** A promise that rejects with the signal's reason once it aborts; never settles otherwise. */
function rejectOnAbort (signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}
