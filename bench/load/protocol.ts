/** Messages between the load driver and its worker processes. */

/** Latency histogram: 0.1 ms buckets up to 30 s (the last bucket holds everything slower). */
export const LATENCY_BUCKET_MS = 0.1
export const LATENCY_BUCKETS = 300_000

export type WorkerCommand =
  | { kind: 'open', url: string, path: string, count: number, parallel: number, headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'drop' }
  | { kind: 'report', lastPublished: number }
  | { kind: 'close' }

export interface WorkerReport {
  events: number
  /** When the last event arrived, epoch ms. */
  lastEventAt: number
  missing: number
  duplicates: number
  connectionsWithGaps: number
  errors: number
  cpuMs: number
  /** [bucket, count] for the non-empty buckets. */
  latency: Array<[number, number]>
}

export type WorkerMessage =
  | { kind: 'ready' }
  | { kind: 'opened', open: number }
  | { kind: 'reset' }
  | { kind: 'dropped' }
  | { kind: 'report', report: WorkerReport }
  | { kind: 'closed' }
