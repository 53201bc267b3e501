/**
 * One fan-out run: a fresh server, N subscribers over the load client, R events/s published for
 * a while after a warm-up, and what the subscribers saw. Shared by fanout.ts and saturation.ts.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { LoadClient, type LoadFigures } from '../load/client.ts'
import { SERVERS } from '../servers/index.ts'
import { cpuMsOf } from './processes.ts'

export interface Scenario { subscribers: number, rate: number }
export interface Run extends LoadFigures {
  server: string
  deliveriesPerS: number
  serverCpuPct: number
  clientCpuPct: number
  published: number
  /** What `probe` read from the server after the run, before it stopped. */
  probed?: Record<string, number>
}

const PAD = 'x'.repeat(160) // with n and t, about 200 bytes of JSON

const now = (): number => performance.timeOrigin + performance.now()

/** Publishes at `rate`/s for `ms`, paced on absolute times; resolves when every publish has answered. */
export async function publishFor (publish: (data: unknown) => Promise<void>, rate: number, ms: number, next: () => number): Promise<number> {
  const interval = 1000 / rate
  const start = performance.now()
  const inFlight: Array<Promise<void>> = []
  let errors = 0
  for (let i = 0; i * interval < ms; i++) {
    const wait = start + i * interval - performance.now()
    if (wait > 1) await sleep(wait)
    inFlight.push(publish({ n: next(), t: now(), p: PAD }).catch(() => { errors++ }))
  }
  await Promise.all(inFlight)
  return errors
}

/** Waits until the clients stop receiving (every event delivered, or the server gave up). */
export async function drained (client: LoadClient, lastPublished: number, expected: number): Promise<LoadFigures> {
  let previous = -1
  for (let waited = 0; waited < 10_000; waited += 250) {
    const figures = await client.figures(lastPublished)
    if (figures.events >= expected || figures.events === previous) return figures
    previous = figures.events
    await sleep(250)
  }
  return client.figures(lastPublished)
}

/** Runs `scenario` against a fresh `name` server for `seconds`, with `workers` load-client processes. */
export async function runFanout (name: string, scenario: Scenario, seconds: number, workers: number,
  probe?: (url: string) => Promise<Record<string, number>>): Promise<Run> {
  const make = SERVERS[name]
  if (make === undefined) throw new Error(`unknown server ${name}; known: ${Object.keys(SERVERS).join(', ')}`)
  const server = await make()
  try {
    const client = await LoadClient.start(server.url, server.streamPath, scenario.subscribers, workers)
    try {
      let n = 0
      const next = (): number => ++n
      await publishFor(server.publish, scenario.rate, 1000, next) // warm-up
      await drained(client, n, Infinity)
      await client.reset()
      const first = n + 1
      // A server on Redis: Redis's CPU is part of what each delivery costs.
      const cpu = (): number => cpuMsOf(server.pid) + (server.redisPid === undefined ? 0 : cpuMsOf(server.redisPid))
      const cpu0 = cpu()
      const t0 = performance.now()
      const startedAt = now()
      const errors = await publishFor(server.publish, scenario.rate, seconds * 1000, next)
      if (errors > 0) console.warn(`${name}: ${errors} publishes failed`)
      const published = n - first + 1
      const figures = await drained(client, n, published * scenario.subscribers)
      const elapsedMs = performance.now() - t0
      const probed = probe === undefined ? undefined : await probe(server.url)
      return {
        ...(probed === undefined ? {} : { probed }),
        server: name,
        published,
        ...figures,
        // Delivered over the time from the first publish to the last event received: below the
        // offered rate when a server (or the machine) cannot keep up.
        deliveriesPerS: figures.events / Math.max(seconds, (figures.lastEventAt - startedAt) / 1000),
        serverCpuPct: ((cpu() - cpu0) / elapsedMs) * 100,
        clientCpuPct: (figures.cpuMs / elapsedMs) * 100
      }
    } finally {
      await client.close()
    }
  } finally {
    await server.stop()
  }
}
