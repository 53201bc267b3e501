/**
 * Dashboard: server-rendered pages, 20 keep-alive clients in a closed loop.
 * - `/` with 1,000 streams open, against the same server with none (before and after).
 * - A 24-tile dashboard with full buffers (charts of 60 samples, lists, feeds, numbers, gauges...)
 *   against a one-tile one on the same server, alternating.
 *
 *     npx tsx bench/dashboard.ts
 *     npx tsx bench/dashboard.ts 5000
 */
import { Agent, get } from 'node:http'
import { performance } from 'node:perf_hooks'
import { machine, writeSection } from './lib/report.ts'
import { openStreams } from './lib/streams.ts'
import { SERVERS } from './servers/index.ts'
import { startTicker } from './lib/ticker-process.ts'

const STREAMS = Number(process.argv[2] ?? 1000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const CONCURRENCY = 20

async function requestsPerSecond (url: string, path = '/'): Promise<{ rps: number, p99Ms: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  const latencies: number[] = []
  const until = performance.now() + SECONDS * 1000
  const one = async (): Promise<void> => new Promise((resolve, reject) => {
    const started = performance.now()
    get(`${url}${path}`, { agent }, (res) => {
      res.resume()
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${path} answered ${res.statusCode}`))
        latencies.push(performance.now() - started)
        resolve()
      })
    }).on('error', reject)
  })
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < until) await one()
  }))
  agent.destroy()
  latencies.sort((a, b) => a - b)
  return { rps: latencies.length / SECONDS, p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? NaN }
}

const TOKEN = 'bench-token'
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

/** Four tiles of each of six kinds over six topics, with what each payload carries. */
function fullDashboard (): { topics: Record<string, unknown>, tiles: Array<Record<string, unknown>> } {
  const tiles: Array<Record<string, unknown>> = []
  for (let i = 0; i < 4; i++) {
    tiles.push(
      { topic: `m${i}`, kind: 'number', field: 'total', unit: '€', thresholds: { warn: 50, critical: 20, direction: 'below' }, changeOverSeconds: 60 },
      { topic: `m${i}`, kind: 'gauge', field: 'cpu', format: { style: 'percent' }, thresholds: { warn: 80, critical: 95 } },
      { topic: `m${i}`, kind: 'chart', fields: ['cpu', 'mem', 'io'], min: 0, max: 100, format: { style: 'percent' } },
      { topic: `m${i}`, kind: 'list', field: 'queues', label: 'name', value: 'depth', limit: 8 },
      { topic: `m${i}`, kind: 'status', field: 'state', states: { ok: 'ok', degraded: 'warn', down: 'critical' } },
      { topic: `f${i}`, kind: 'feed' }
    )
  }
  const topics: Record<string, unknown> = {}
  for (let i = 0; i < 4; i++) {
    topics[`m${i}`] = { capacity: 100 }
    topics[`f${i}`] = { capacity: 100 }
  }
  return { topics, tiles }
}

async function post (url: string, topic: string, data: unknown): Promise<void> {
  const res = await fetch(`${url}/topics/${topic}/events`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ data }) })
  if (res.status !== 201) throw new Error(`publish answered ${res.status}`)
}

/** The 24-tile dashboard against a one-tile one, with every buffer full. */
async function fullBuffers (): Promise<string[]> {
  const { topics, tiles } = fullDashboard()
  const started = await startTicker({
    topics,
    log: { level: 'warn', format: 'json', requests: false },
    ui: { chartPoints: 60, feedItems: 8 },
    dashboards: { one: { title: 'One', tiles: [{ topic: 'm0', kind: 'generic' }] }, full: { title: 'Full', tiles } }
  }, { TICKER_PUBLISH_TOKEN: TOKEN })
  try {
    for (let n = 0; n < 60; n++) {
      for (let i = 0; i < 4; i++) {
        await post(started.url, `m${i}`, {
          total: 100 - n,
          cpu: (n * 7) % 100,
          mem: 40 + (n % 20),
          io: (n * 13) % 100,
          state: ['ok', 'degraded', 'down'][n % 3],
          queues: Array.from({ length: 8 }, (_, q) => ({ name: `queue-${q}`, depth: (n * q) % 50 }))
        })
        if (n < 8) await post(started.url, `f${i}`, { feed: `f${i}`, source: 'Wire', title: `Headline ${n} with a few more words`, link: `https://example.com/${n}`, published: new Date().toISOString(), summary: '' })
      }
    }
    await requestsPerSecond(started.url, '/d/full') // warm-up
    const one: Array<{ rps: number, p99Ms: number }> = []
    const full: Array<{ rps: number, p99Ms: number }> = []
    for (let round = 0; round < ROUNDS; round++) {
      for (const path of round % 2 === 0 ? ['/d/one', '/d/full'] : ['/d/full', '/d/one']) {
        const r = await requestsPerSecond(started.url, path)
        ;(path === '/d/one' ? one : full).push(r)
        console.log(`${path} round ${round + 1}: ${Math.round(r.rps)} requests/s, p99 ${r.p99Ms.toFixed(1)} ms`)
      }
    }
    const bytes = async (path: string): Promise<number> => (await (await fetch(`${started.url}${path}`)).arrayBuffer()).byteLength
    const med = (rs: Array<{ rps: number, p99Ms: number }>, key: 'rps' | 'p99Ms'): number => {
      const sorted = rs.map((r) => r[key]).sort((a, b) => a - b)
      return sorted[Math.floor(sorted.length / 2)] ?? NaN
    }
    const ratios = one.map((r, i) => (full[i]?.rps ?? NaN) / r.rps).sort((a, b) => a - b)
    return [
      `| one generic tile | ${Math.round(med(one, 'rps')).toLocaleString('en')} | ${med(one, 'p99Ms').toFixed(1)} ms | ${(await bytes('/d/one') / 1024).toFixed(1)} KB | 1.00× |`,
      `| 24 tiles, buffers full | ${Math.round(med(full, 'rps')).toLocaleString('en')} | ${med(full, 'p99Ms').toFixed(1)} ms | ${(await bytes('/d/full') / 1024).toFixed(1)} KB | ${(ratios[Math.floor(ratios.length / 2)] ?? NaN).toFixed(2)}× |`
    ]
  } finally {
    await started.stop()
  }
}

async function main (): Promise<void> {
  const make = SERVERS.ticker
  if (make === undefined) throw new Error('no ticker server')
  const server = await make()
  const rows: string[] = []
  try {
    for (let i = 0; i < 20; i++) await server.publish({ n: i, t: Date.now(), text: `event ${i}` })
    await requestsPerSecond(server.url) // warm-up
    const before = await requestsPerSecond(server.url)
    const pool = await openStreams(server.url, '/stream?format=html&topics=bench', STREAMS)
    let loaded
    try {
      loaded = await requestsPerSecond(server.url)
    } finally {
      await pool.close()
    }
    const after = await requestsPerSecond(server.url)
    const base = Math.max(before.rps, after.rps)
    for (const [label, r] of [['no streams (before)', before], [`${STREAMS.toLocaleString('en')} streams open`, loaded], ['no streams (after)', after]] as const) {
      rows.push(`| ${label} | ${Math.round(r.rps).toLocaleString('en')} | ${r.p99Ms.toFixed(1)} ms | ${(r.rps / base).toFixed(2)}× |`)
      console.log(`${label}: ${Math.round(r.rps)} requests/s, p99 ${r.p99Ms.toFixed(1)} ms`)
    }
  } finally {
    await server.stop()
  }
  const full = await fullBuffers()
  writeSection('dashboard', [
    '## Dashboard',
    '',
    `\`npx tsx bench/dashboard.ts\` · ${machine()} · server-rendered \`/\` (one generic tile, 20 events buffered), ${CONCURRENCY} keep-alive clients in a closed loop for ${SECONDS} s; the streams are idle \`format=html\` dashboard streams on raw sockets.`,
    '',
    '| condition | requests/s | p99 | vs. the better no-stream run |',
    '|---|---:|---:|---:|',
    ...rows,
    '',
    `A 24-tile dashboard (four each of number, gauge, 3-series chart, 8-row list, status and feed, over eight topics; charts of 60 samples, feeds of 8 headlines, every buffer full) against a one-tile one on the same server, alternating, medians of ${ROUNDS} rounds (the ratio paired by round):`,
    '',
    '| page | requests/s | p99 | size | vs. one tile |',
    '|---|---:|---:|---:|---:|',
    ...full
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
