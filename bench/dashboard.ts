/**
 * Dashboard: server-rendered `/` requests/s with 1,000 streams open, against the same server
 * with none (measured in the same run, before and after). 20 keep-alive clients, closed loop.
 *
 *     npx tsx bench/dashboard.ts
 *     npx tsx bench/dashboard.ts 5000
 */
import { Agent, get } from 'node:http'
import { performance } from 'node:perf_hooks'
import { machine, writeSection } from './lib/report.ts'
import { openStreams } from './lib/streams.ts'
import { SERVERS } from './servers/index.ts'

const STREAMS = Number(process.argv[2] ?? 1000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const CONCURRENCY = 20

async function requestsPerSecond (url: string): Promise<{ rps: number, p99Ms: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  const latencies: number[] = []
  const until = performance.now() + SECONDS * 1000
  const one = async (): Promise<void> => new Promise((resolve, reject) => {
    const started = performance.now()
    get(`${url}/`, { agent }, (res) => {
      res.resume()
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`/ answered ${res.statusCode}`))
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
  writeSection('dashboard', [
    '## Dashboard',
    '',
    `\`npx tsx bench/dashboard.ts\` · ${machine()} · server-rendered \`/\` (one generic tile, 20 events buffered), ${CONCURRENCY} keep-alive clients in a closed loop for ${SECONDS} s; the streams are idle \`format=html\` dashboard streams on raw sockets.`,
    '',
    '| condition | requests/s | p99 | vs. the better no-stream run |',
    '|---|---:|---:|---:|',
    ...rows
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
