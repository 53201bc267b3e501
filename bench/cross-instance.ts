/**
 * Across instances: two Tickers on one Redis; subscribers on B, events published through A (the
 * path a fleet behind a load balancer takes), against publishing through B itself, in the same
 * run. Latency is publish → parsed by a client of B.
 *
 *     npx tsx bench/cross-instance.ts            # 100 subscribers × 100 events/s
 */
import { randomUUID } from 'node:crypto'
import { LoadClient } from './load/client.ts'
import { cpuMsOf } from './lib/processes.ts'
import { machine, median, writeSection } from './lib/report.ts'
import { drained, publishFor } from './lib/run.ts'
import { startTicker } from './lib/ticker-process.ts'
import { startRedis } from '../test/redis.ts'

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 100)
const RATE = Number(process.env.BENCH_RATE ?? 100)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const TOKEN = 'bench-token'

interface Row { path: string, p50: number, p99: number, missing: number, duplicates: number, cpuPerDeliveryUs: number }

async function main (): Promise<void> {
  const redis = await startRedis()
  const prefix = randomUUID()
  const config = {
    topics: { bench: { capacity: 1000 } },
    log: { level: 'warn', format: 'json', requests: false },
    sse: { maxConnections: 50_000, maxConnectionsPerIp: 50_000 },
    bus: { backend: 'redis', redis: { url: redis.url, keyPrefix: prefix } }
  }
  const [a, b] = [await startTicker(config, { TICKER_PUBLISH_TOKEN: TOKEN }), await startTicker(config, { TICKER_PUBLISH_TOKEN: TOKEN })]
  const pids = [a.child.pid, b.child.pid, redis.pid].filter((p): p is number => p !== undefined)
  const cpu = (): number => pids.reduce((sum, pid) => sum + cpuMsOf(pid), 0)
  const rows: Row[] = []
  try {
    const client = await LoadClient.start(b.url, '/topics/bench/stream', SUBSCRIBERS, 1)
    try {
      let n = 0
      const next = (): number => ++n
      const publishTo = (url: string) => async (data: unknown): Promise<void> => {
        const res = await fetch(`${url}/topics/bench/events`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ data }) })
        if (res.status !== 201) throw new Error(`publish answered ${res.status}`)
      }
      await publishFor(publishTo(a.url), RATE, 1000, next) // warm-up, both paths
      await publishFor(publishTo(b.url), RATE, 1000, next)
      await drained(client, n, Infinity)
      for (let round = 0; round < ROUNDS; round++) {
        for (const [path, url] of round % 2 === 0 ? [['A → B', a.url], ['B → B', b.url]] : [['B → B', b.url], ['A → B', a.url]]) {
          await client.reset()
          const first = n + 1
          const cpu0 = cpu()
          await publishFor(publishTo(url as string), RATE, SECONDS * 1000, next)
          const figures = await drained(client, n, (n - first + 1) * SUBSCRIBERS)
          const cpuMs = cpu() - cpu0
          rows.push({ path: path as string, p50: figures.p50Ms, p99: figures.p99Ms, missing: figures.missing, duplicates: figures.duplicates, cpuPerDeliveryUs: (cpuMs * 1000) / Math.max(1, figures.events) })
          console.log(`${path} round ${round + 1}: p50 ${figures.p50Ms.toFixed(1)} ms, p99 ${figures.p99Ms.toFixed(1)} ms, missing ${figures.missing}, dup ${figures.duplicates}, CPU ${((cpuMs * 1000) / Math.max(1, figures.events)).toFixed(1)} µs per delivery (A + B + Redis)`)
        }
      }
    } finally {
      await client.close()
    }
  } finally {
    await a.stop()
    await b.stop()
    await redis.dispose()
  }
  const by = (path: string, key: keyof Row): number => median(rows.filter((r) => r.path === path).map((r) => Number(r[key])))
  writeSection('cross-instance', [
    '## Across instances (Redis)',
    '',
    `\`npx tsx bench/cross-instance.ts\` · ${machine()} · two Tickers on one redis-server, ${SUBSCRIBERS} subscribers on B, ${RATE} events/s for ${SECONDS} s published through A (another instance) or B (the same one), alternating, medians of ${ROUNDS} rounds. CPU is A's, B's and Redis's together, per event delivered.`,
    '',
    '| published through | p50 | p99 | missing | duplicated | CPU per delivery |',
    '|---|---:|---:|---:|---:|---:|',
    ...['A → B', 'B → B'].map((path) => `| ${path} | ${by(path, 'p50').toFixed(1)} ms | ${by(path, 'p99').toFixed(1)} ms | ${by(path, 'missing')} | ${by(path, 'duplicates')} | ${by(path, 'cpuPerDeliveryUs').toFixed(1)} µs |`)
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
