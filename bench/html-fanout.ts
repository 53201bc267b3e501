/**
 * html fan-out: 1,000 subscribers × 50 events/s as rendered tiles (format=html) against the same
 * load as JSON, in alternating rounds on the same machine. Each event is rendered once, whatever
 * the number of subscribers: the server's tile renders are read from /metrics after each run.
 *
 *     npx tsx bench/html-fanout.ts
 *     BENCH_SECONDS=5 npx tsx bench/html-fanout.ts 200x10
 */
import { machine, median, writeSection } from './lib/report.ts'
import { runFanout, type Run, type Scenario } from './lib/run.ts'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2)
const arg = /^(\d+)x(\d+)$/.exec(process.argv[2] ?? '')
const SCENARIO: Scenario = arg === null ? { subscribers: 1000, rate: 50 } : { subscribers: Number(arg[1]), rate: Number(arg[2]) }
const NAMES = ['ticker', 'ticker-html'] as const
const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–')

/** The server's tile renders so far, from its /metrics. */
async function renders (url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith('ticker_tile_renders_total '))
  return { renders: Number(line?.split(' ')[1] ?? NaN) }
}

async function main (): Promise<void> {
  const runs: Array<Run & { round: number }> = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? NAMES : [...NAMES].reverse()) {
      const run = await runFanout(name, SCENARIO, SECONDS, WORKERS, renders)
      runs.push({ ...run, round })
      console.log(`${name} round ${round + 1}: ${fmt(run.deliveriesPerS)} deliveries/s, p99 ${fmt(run.p99Ms, 1)} ms, missing ${run.missing}, server CPU ${fmt(run.serverCpuPct)} %, renders ${run.probed?.renders}`)
    }
  }
  const by = (name: string, read: (r: Run) => number): number => median(runs.filter((r) => r.server === name).map(read))
  const ratio = (read: (r: Run) => number): number =>
    median(Array.from({ length: ROUNDS }, (_, round) => {
      const of = (name: string): number => read(runs.find((r) => r.server === name && r.round === round) as Run)
      return of('ticker-html') / of('ticker')
    }))
  // Renders per event: the warm-up's events count too, so per event published in all.
  const rendersPerEvent = by('ticker-html', (r) => (r.probed?.renders ?? NaN) / (r.published + SCENARIO.rate))
  const rows = NAMES.map((name) => `| ${name === 'ticker' ? 'json' : 'html'} | ${fmt(by(name, (r) => r.deliveriesPerS))} | ${fmt(by(name, (r) => r.p50Ms), 1)} ms | ${fmt(by(name, (r) => r.p99Ms), 1)} ms | ${fmt(by(name, (r) => r.missing))} | ${fmt(by(name, (r) => r.duplicates))} | ${fmt(by(name, (r) => r.serverCpuPct))} % | ${name === 'ticker' ? '–' : fmt(rendersPerEvent, 2)} |`)
  writeSection('html-fanout', [
    '## html streams: rendered tiles fanned out',
    '',
    `\`npx tsx bench/html-fanout.ts\` · ${machine()} · ${fmt(SCENARIO.subscribers)} subscribers × ${SCENARIO.rate} events/s for ${SECONDS} s, the same topic as JSON and as its rendered tile (\`format=html\`, a generic tile: ~0.5 KB of escaped JSON per frame), alternating, medians of ${ROUNDS} rounds. Renders per event from \`ticker_tile_renders_total\`.`,
    '',
    '| format | deliveries/s | p50 | p99 | missing | duplicated | server CPU | tile renders per event |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `html ÷ json, paired by round: deliveries ${fmt(ratio((r) => r.deliveriesPerS), 2)}×, p99 ${fmt(ratio((r) => r.p99Ms), 2)}×, server CPU ${fmt(ratio((r) => r.serverCpuPct), 2)}×.`
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
