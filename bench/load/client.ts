/**
 * The load client: SSE connections spread over worker processes (so parsing is not limited to
 * one core of the driver), and the merged figures from all of them.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { LATENCY_BUCKET_MS, type WorkerCommand, type WorkerMessage, type WorkerReport } from './protocol.ts'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))

/** What all workers saw, merged: their counters summed (CPU too), latency as percentiles. */
export interface LoadFigures extends Omit<WorkerReport, 'latency'> {
  p50Ms: number
  p95Ms: number
  p99Ms: number
  maxMs: number
}

async function ask<K extends WorkerMessage['kind']> (child: ChildProcess, command: WorkerCommand, reply: K): Promise<Extract<WorkerMessage, { kind: K }>> {
  const answer = new Promise<Extract<WorkerMessage, { kind: K }>>((resolve) => {
    const onMessage = (message: WorkerMessage): void => {
      if (message.kind !== reply) return
      child.off('message', onMessage)
      resolve(message as Extract<WorkerMessage, { kind: K }>)
    }
    child.on('message', onMessage)
  })
  child.send(command)
  return answer
}

function percentile (histogram: Map<number, number>, total: number, p: number): number {
  const target = Math.ceil(total * p)
  let seen = 0
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket) ?? 0
    if (seen >= target) return (bucket + 1) * LATENCY_BUCKET_MS
  }
  return NaN
}

export class LoadClient {
  readonly #workers: ChildProcess[]

  private constructor (workers: ChildProcess[]) {
    this.#workers = workers
  }

  /** Starts `workers` load-client processes, ready to open streams. */
  static async spawn (workers = 2): Promise<LoadClient> {
    // BENCH_CLIENT_ARGS passes flags to the workers' node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    const nodeArgs = process.env.BENCH_CLIENT_ARGS?.split(' ').filter(Boolean) ?? []
    const children = Array.from({ length: workers }, () => fork(WORKER, [], { execArgv: [...nodeArgs, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
    await Promise.all(children.map(async (child) => new Promise<void>((resolve) => {
      const onMessage = (message: WorkerMessage): void => {
        if (message.kind !== 'ready') return
        child.off('message', onMessage)
        resolve()
      }
      child.on('message', onMessage)
    })))
    return new LoadClient(children)
  }

  /** Spawns the workers, then opens `connections` streams of `url` + `path` over them. */
  static async start (url: string, path: string, connections: number, workers = 2, headers?: Record<string, string>, parallel = 100): Promise<LoadClient> {
    const client = await LoadClient.spawn(workers)
    await client.open(url, path, connections, headers, parallel)
    return client
  }

  /** Opens `connections` streams of `url` + `path`, spread over the workers, `parallel` connects at a time each. */
  async open (url: string, path: string, connections: number, headers?: Record<string, string>, parallel = 100): Promise<void> {
    const workers = this.#workers.length
    const opened = await Promise.all(this.#workers.map(async (child, i) => {
      const count = Math.floor(connections / workers) + (i < connections % workers ? 1 : 0)
      return (await ask(child, { kind: 'open', url, path, count, parallel, ...(headers === undefined ? {} : { headers }) }, 'opened')).open
    }))
    const open = opened.reduce((a, b) => a + b, 0)
    if (open !== connections) {
      await this.close()
      throw new Error(`only ${open} of ${connections} streams opened`)
    }
  }

  /** Forgets everything counted so far (warm-up, replayed events). */
  async reset (): Promise<void> {
    await Promise.all(this.#workers.map(async (child) => ask(child, { kind: 'reset' }, 'reset')))
  }

  /** Closes every stream (the workers stay, and forget what they counted), as a network outage would. */
  async drop (): Promise<void> {
    await Promise.all(this.#workers.map(async (child) => ask(child, { kind: 'drop' }, 'dropped')))
  }

  /** Merged figures; `lastPublished` is the sequence number of the last event published. */
  async figures (lastPublished: number): Promise<LoadFigures> {
    const reports: WorkerReport[] = await Promise.all(this.#workers.map(async (child) =>
      (await ask(child, { kind: 'report', lastPublished }, 'report')).report))
    const histogram = new Map<number, number>()
    for (const r of reports) for (const [bucket, count] of r.latency) histogram.set(bucket, (histogram.get(bucket) ?? 0) + count)
    const sum = (key: 'events' | 'missing' | 'duplicates' | 'connectionsWithGaps' | 'errors' | 'cpuMs'): number => reports.reduce((a, r) => a + r[key], 0)
    const events = sum('events')
    let top = -1
    for (const bucket of histogram.keys()) if (bucket > top) top = bucket
    return {
      events,
      lastEventAt: Math.max(...reports.map((r) => r.lastEventAt)),
      missing: sum('missing'),
      duplicates: sum('duplicates'),
      connectionsWithGaps: sum('connectionsWithGaps'),
      errors: sum('errors'),
      cpuMs: sum('cpuMs'),
      p50Ms: percentile(histogram, events, 0.5),
      p95Ms: percentile(histogram, events, 0.95),
      p99Ms: percentile(histogram, events, 0.99),
      maxMs: top === -1 ? NaN : (top + 1) * LATENCY_BUCKET_MS
    }
  }

  async close (): Promise<void> {
    await Promise.all(this.#workers.map(async (child) => {
      if (!child.connected) return
      const exited = once(child, 'exit')
      child.send({ kind: 'close' } satisfies WorkerCommand)
      await exited
    }))
  }
}
