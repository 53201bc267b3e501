/**
 * The producer contract. A producer makes data and publishes it through its context; it knows
 * nothing of HTTP, SSE or the bus itself. Scheduling, timeouts and error isolation are the
 * scheduler's job (scheduler.ts), not the producer's.
 */
import type { FastifyBaseLogger } from 'fastify'

/** What a run may use: all of it, and nothing else. */
export interface ProducerContext {
  /** Publishes to the bus; refused once the run was cut off. Resolves to the event ID. */
  publish (topic: string, data: unknown): Promise<string>
  readonly log: FastifyBaseLogger
  /** Aborted when the run times out or the service stops: pass it to fetch and friends. */
  readonly signal: AbortSignal
  /** The time, ms since the Unix epoch. */
  now (): number
  /**
   * The producer's own state, kept where any instance that may run the producer next finds it
   * (in Redis when several instances share it). JSON only.
   */
  readonly state: {
    load (): Promise<unknown>
    save (state: unknown): Promise<void>
  }
}

export interface Producer {
  /** Unique among producers: `clock`, `system`, `feed:<name>`. */
  readonly name: string
  /** node-cron expression (optional leading seconds field). */
  readonly schedule: string
  /** A run longer than this is cut off, in ms. */
  readonly timeoutMs: number
  /** Topics it publishes to, for /topics and the dashboard. */
  readonly topics: readonly string[]
  run (ctx: ProducerContext): Promise<void>
  /** Releases what the producer holds (histograms, sockets). */
  close? (): void
}

export type RunOutcome = 'ok' | 'error' | 'timeout'

/** One finished run, as the scheduler reports it (metrics subscribe to these). */
export interface RunReport {
  readonly producer: string
  readonly outcome: RunOutcome
  readonly durationMs: number
  readonly error?: Error
}

/** What /producers, /topics and the dashboard show of a producer. */
export interface ProducerState {
  readonly name: string
  readonly schedule: string
  readonly topics: readonly string[]
  readonly running: boolean
  readonly runs: number
  readonly failures: number
  readonly timeouts: number
  /** Ticks skipped because the previous run was still going. */
  readonly skipped: number
  readonly lastRunAt: string | null
  readonly lastSuccessAt: string | null
  readonly lastError: string | null
  readonly lastDurationMs: number | null
  readonly nextRunAt: string | null
  /** The instance that runs it (this one, unless several share Redis); null when none is known. */
  readonly runner: string | null
  /** Whether it runs on this instance now. */
  readonly runsHere: boolean
}
