/**
 * Fan-out: N subscribers × R events/s of 200-byte payloads, for Ticker and the baselines, in
 * alternating rounds (A B A B) on the same machine; the medians and their ratios go to
 * docs/BENCHMARKS.md.
 *
 *     npx tsx bench/fanout.ts                          # 1,000 × 50/s and 5,000 × 20/s, every server
 *     BENCH_SECONDS=5 npx tsx bench/fanout.ts 200x10   # a quick look
 *     BENCH_SERVERS=ticker npx tsx bench/fanout.ts     # one server only
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { LoadClient, type LoadFigures } from './load/client.ts'
import { cpuMsOf } from './lib/processes.ts'
import { machine, median, writeSection } from './lib/report.ts'
import { SERVERS, defaultServers } from './servers/index.ts'

interface Scenario { subscribers: number, rate: number }
interface Run extends LoadFigures { server: string, deliveriesPerS: number, serverCpuPct: number, clientCpuPct: number, published: number }

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2)
const NAMES = process.env.BENCH_SERVERS?.split(',') ?? defaultServers()
const scenarioArgs = process.argv.slice(2).map((a) => /^(\d+)x(\d+)$/.exec(a)).filter((m) => m !== null)
const SCENARIOS: Scenario[] = scenarioArgs.length > 0
  ? scenarioArgs.map((m) => ({ subscribers: Number(m[1]), rate: Number(m[2]) }))
  : [{ subscribers: 1000, rate: 50 }, { subscribers: 5000, rate: 20 }]
const PAD = 'x'.repeat(160) // with n and t, about 200 bytes of JSON

const now = (): number => performance.timeOrigin + performance.now()

/** Publishes at `rate`/s for `ms`, paced on absolute times; resolves when every publish has answered. */
async function publishFor (publish: (data: unknown) => Promise<void>, rate: number, ms: number, next: () => number): Promise<number> {
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
async function drained (client: LoadClient, lastPublished: number, expected: number): Promise<LoadFigures> {
  let previous = -1
  for (let waited = 0; waited < 10_000; waited += 250) {
    const figures = await client.figures(lastPublished)
    if (figures.events >= expected || figures.events === previous) return figures
    previous = figures.events
    await sleep(250)
  }
  return client.figures(lastPublished)
}

async function runOnce (name: string, scenario: Scenario): Promise<Run> {
  const make = SERVERS[name]
  if (make === undefined) throw new Error(`unknown server ${name}; known: ${Object.keys(SERVERS).join(', ')}`)
  const server = await make()
  try {
    const client = await LoadClient.start(server.url, server.streamPath, scenario.subscribers, WORKERS)
    try {
      let n = 0
      const next = (): number => ++n
      await publishFor(server.publish, scenario.rate, 1000, next) // warm-up
      await drained(client, n, Infinity)
      await client.reset()
      const first = n + 1
      const cpu0 = cpuMsOf(server.pid)
      const t0 = performance.now()
      const startedAt = now()
      const errors = await publishFor(server.publish, scenario.rate, SECONDS * 1000, next)
      if (errors > 0) console.warn(`${name}: ${errors} publishes failed`)
      const published = n - first + 1
      const figures = await drained(client, n, published * scenario.subscribers)
      const elapsedMs = performance.now() - t0
      return {
        server: name,
        published,
        ...figures,
        // Delivered over the time from the first publish to the last event received: below the
        // offered rate when a server (or the machine) cannot keep up.
        deliveriesPerS: figures.events / Math.max(SECONDS, (figures.lastEventAt - startedAt) / 1000),
        serverCpuPct: ((cpuMsOf(server.pid) - cpu0) / elapsedMs) * 100,
        clientCpuPct: (figures.cpuMs / elapsedMs) * 100
      }
    } finally {
      await client.close()
    }
  } finally {
    await server.stop()
  }
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–')

async function main (): Promise<void> {
  const sections: string[] = []
  for (const scenario of SCENARIOS) {
    const runs: Run[] = []
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of NAMES) {
        const run = await runOnce(name, scenario)
        runs.push(run)
        console.log(`${scenario.subscribers}×${scenario.rate}/s ${name} round ${round + 1}: ${fmt(run.deliveriesPerS)} deliveries/s, p99 ${fmt(run.p99Ms, 1)} ms, missing ${run.missing}, dup ${run.duplicates}, server CPU ${fmt(run.serverCpuPct)} %`)
      }
    }
    const by = (name: string, key: keyof Run): number => median(runs.filter((r) => r.server === name).map((r) => Number(r[key])))
    const ticker = by('ticker', 'deliveriesPerS')
    sections.push([
      `### ${fmt(scenario.subscribers)} subscribers × ${scenario.rate} events/s`,
      '',
      '| server | deliveries/s | Ticker ÷ it | p50 | p95 | p99 | max | missing | duplicated | server CPU | client CPU |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...NAMES.map((name) => `| ${name} | ${fmt(by(name, 'deliveriesPerS'))} | ${fmt(ticker / by(name, 'deliveriesPerS'), 2)}× | ${fmt(by(name, 'p50Ms'), 1)} ms | ${fmt(by(name, 'p95Ms'), 1)} ms | ${fmt(by(name, 'p99Ms'), 1)} ms | ${fmt(by(name, 'maxMs'), 1)} ms | ${fmt(by(name, 'missing'))} | ${fmt(by(name, 'duplicates'))} | ${fmt(by(name, 'serverCpuPct'))} % | ${fmt(by(name, 'clientCpuPct'))} % |`)
    ].join('\n'))
  }
  writeSection('fanout', [
    '## Fan-out',
    '',
    `\`npx tsx bench/fanout.ts\` · ${machine()} · ${SECONDS} s per run after a 1 s warm-up, ${ROUNDS} alternating rounds per server (medians shown), ${WORKERS} load-client processes parsing every event, 200-byte payloads published over HTTP. Server and load client share the machine. Latency is publish → parsed by the client. "Ticker ÷ it" is Ticker's deliveries/s over that server's.`,
    '',
    ...sections.flatMap((s) => [s, ''])
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
