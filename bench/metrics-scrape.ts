/**
 * /metrics scrape time with thousands of streams open, against the same scrape with none
 * (the baseline, measured in the same run).
 *
 *     npx tsx bench/metrics-scrape.ts            # 0, 1,000, 5,000, 10,000, then 0 again
 *     npx tsx bench/metrics-scrape.ts 0 2000     # other counts
 */
import { performance } from 'node:perf_hooks'
import { startTicker } from './lib/ticker-process.ts'
import { openStreams, type StreamPool } from './lib/streams.ts'
import { machine, median, writeSection } from './lib/report.ts'

const counts = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n >= 0)
// The baseline (no streams) is measured first and again last: the warmer of the two is the reference.
const STREAMS = counts.length > 0 ? counts : [0, 1000, 5000, 10_000, 0]
const SCRAPES = 30
const WARM_UP = 20

async function scrapeMs (url: string): Promise<{ ms: number, bytes: number }> {
  const started = performance.now()
  const res = await fetch(`${url}/metrics`)
  const text = await res.text()
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`)
  return { ms: performance.now() - started, bytes: text.length }
}

async function main (): Promise<void> {
  const ticker = await startTicker({
    topics: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`t${i}`, {}])),
    sse: { maxConnections: 20_000, maxConnectionsPerIp: 20_000, heartbeatMs: 15_000 }
  })
  const rows: Array<{ streams: number, medianMs: number, p90Ms: number, bytes: number }> = []
  let pool: StreamPool | undefined
  try {
    for (const streams of STREAMS) {
      await pool?.close()
      pool = streams === 0 ? undefined : await openStreams(ticker.url, '/stream?topics=t0,t1,t2,t3,t4', streams)
      for (let i = 0; i < WARM_UP; i++) await scrapeMs(ticker.url)
      const samples: number[] = []
      let bytes = 0
      for (let i = 0; i < SCRAPES; i++) {
        const s = await scrapeMs(ticker.url)
        samples.push(s.ms)
        bytes = s.bytes
      }
      const sorted = [...samples].sort((a, b) => a - b)
      rows.push({ streams, medianMs: median(samples), p90Ms: sorted[Math.floor(sorted.length * 0.9)] ?? NaN, bytes })
      console.log(`${streams} streams: median ${median(samples).toFixed(2)} ms`)
    }
  } finally {
    await pool?.close()
    await ticker.stop()
  }
  const base = Math.min(...rows.filter((r) => r.streams === 0).map((r) => r.medianMs))
  writeSection('metrics-scrape', [
    '## /metrics scrape time with streams open',
    '',
    `\`npx tsx bench/metrics-scrape.ts\` · ${machine()} · Ticker in its own process, streams held by raw sockets on loopback, ${SCRAPES} scrapes per row (after ${WARM_UP} warm-up), 20 topics.`,
    '',
    '| open streams | median | p90 | vs. no streams | body |',
    '|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.streams.toLocaleString('en')} | ${r.medianMs.toFixed(2)} ms | ${r.p90Ms.toFixed(2)} ms | ${(r.medianMs / base).toFixed(2)}× | ${(r.bytes / 1024).toFixed(1)} KB |`),
    '',
    'Collectors read counters the hub keeps and iterate topics, never streams, so the scrape should not grow with connections.',
    '',
    'What got it there (same command, 0 → 10,000 streams): with prom-client\'s defaults as they come, the median went',
    'from 2.4 ms to 21.5 ms (8.8×), because `nodejs_active_handles`/`_resources` list every socket and `process_open_fds`',
    'reads /proc/self/fd synchronously (≈30 ms of blocked event loop at 16,000 fds, measured alone). Dropping the',
    'active-handles family left 2.7 → 14 ms; counting fds off the event loop, at most every 10 s, made it flat.'
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
