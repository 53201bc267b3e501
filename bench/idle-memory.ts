/**
 * Idle memory: server RSS per open stream, at 5,000 and 10,000 idle streams, against the same
 * server with none (measured in the same run). Servers alternate (A B A B).
 *
 *     npx tsx bench/idle-memory.ts
 *     BENCH_SERVERS=ticker npx tsx bench/idle-memory.ts 10000
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { rssOf } from './lib/processes.ts'
import { machine, median, writeSection } from './lib/report.ts'
import { openStreams } from './lib/streams.ts'
import { SERVERS, defaultServers } from './servers/index.ts'

const NAMES = process.env.BENCH_SERVERS?.split(',') ?? defaultServers()
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const counts = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0)
const COUNTS = counts.length > 0 ? counts : [5000, 10_000]
const SETTLE_MS = 3000

/** RSS once it stops moving (allocation settles, GC has had its chance). */
async function settledRss (pid: number): Promise<number> {
  await sleep(SETTLE_MS)
  return rssOf(pid)
}

async function perConnection (name: string, streams: number): Promise<{ perConnBytes: number, baseBytes: number }> {
  const make = SERVERS[name]
  if (make === undefined) throw new Error(`unknown server ${name}`)
  const server = await make()
  try {
    // Warm the server up with a few streams first, so code loading is not counted per stream.
    const warm = await openStreams(server.url, server.streamPath, 50)
    await warm.close()
    const base = await settledRss(server.pid)
    const pool = await openStreams(server.url, server.streamPath, streams)
    try {
      const loaded = await settledRss(server.pid)
      return { perConnBytes: (loaded - base) / streams, baseBytes: base }
    } finally {
      await pool.close()
    }
  } finally {
    await server.stop()
  }
}

async function main (): Promise<void> {
  const rows: string[] = []
  for (const streams of COUNTS) {
    const results = new Map<string, number[]>()
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of NAMES) {
        const { perConnBytes } = await perConnection(name, streams)
        results.set(name, [...(results.get(name) ?? []), perConnBytes])
        console.log(`${streams} idle streams, ${name}, round ${round + 1}: ${(perConnBytes / 1024).toFixed(1)} KB per stream`)
      }
    }
    const ticker = median(results.get('ticker') ?? [])
    for (const name of NAMES) {
      const kb = median(results.get(name) ?? []) / 1024
      rows.push(`| ${streams.toLocaleString('en')} | ${name} | ${kb.toFixed(1)} KB | ${(median(results.get(name) ?? []) / ticker).toFixed(2)}× |`)
    }
  }
  writeSection('idle-memory', [
    '## Idle memory per stream',
    '',
    `\`npx tsx bench/idle-memory.ts\` · ${machine()} · server RSS with N idle streams minus RSS with none (after 50 warm-up streams), ${SETTLE_MS / 1000} s settle, medians of ${ROUNDS} alternating rounds. Streams are raw sockets on loopback.`,
    '',
    '| streams | server | per stream | vs. Ticker |',
    '|---:|---|---:|---:|',
    ...rows
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
