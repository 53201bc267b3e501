/**
 * Fan-out: N subscribers × R events/s of 200-byte payloads, for Ticker and the baselines, in
 * rounds on the same machine (A B C, then C B A, ...); the medians and their ratios go to
 * docs/BENCHMARKS.md.
 *
 *     npx tsx bench/fanout.ts                          # 1,000 × 50/s, 5,000 × 20/s, 5,000 × 50/s, every server
 *     BENCH_SECONDS=5 npx tsx bench/fanout.ts 200x10   # a quick look
 *     BENCH_SERVERS=ticker npx tsx bench/fanout.ts     # one server only
 */
import { machine, median, writeSection } from './lib/report.ts'
import { runFanout, type Run, type Scenario } from './lib/run.ts'
import { defaultServers } from './servers/index.ts'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2)
const NAMES = process.env.BENCH_SERVERS?.split(',') ?? defaultServers()
const scenarioArgs = process.argv.slice(2).map((a) => /^(\d+)x(\d+)$/.exec(a)).filter((m) => m !== null)
const SCENARIOS: Scenario[] = scenarioArgs.length > 0
  ? scenarioArgs.map((m) => ({ subscribers: Number(m[1]), rate: Number(m[2]) }))
  // 5,000 × 50/s offers more than nchan delivers here, so it shows what 5,000 subscribers can get.
  : [{ subscribers: 1000, rate: 50 }, { subscribers: 5000, rate: 20 }, { subscribers: 5000, rate: 50 }]
const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–')

async function main (): Promise<void> {
  const sections: string[] = []
  for (const scenario of SCENARIOS) {
    const runs: Array<Run & { round: number }> = []
    for (let round = 0; round < ROUNDS; round++) {
      // A B C, then C B A: no server is always the first (or last) of a round.
      for (const name of round % 2 === 0 ? NAMES : [...NAMES].reverse()) {
        const run = await runFanout(name, scenario, SECONDS, WORKERS)
        runs.push({ ...run, round })
        console.log(`${scenario.subscribers}×${scenario.rate}/s ${name} round ${round + 1}: ${fmt(run.deliveriesPerS)} deliveries/s, p99 ${fmt(run.p99Ms, 1)} ms, missing ${run.missing}, dup ${run.duplicates}, server CPU ${fmt(run.serverCpuPct)} %, client CPU ${fmt(run.clientCpuPct)} %`)
      }
    }
    const by = (name: string, key: keyof Run): number => median(runs.filter((r) => r.server === name).map((r) => Number(r[key])))
    const ticker = by('ticker', 'deliveriesPerS')
    // Runs next to each other share the machine's mood: the p99 ratio within each round, then
    // the median of those, is steadier than the ratio of the medians.
    const p99Of = (name: string, round: number): number => runs.find((r) => r.server === name && r.round === round)?.p99Ms ?? NaN
    const paired = NAMES.filter((name) => name !== 'ticker').map((name) => {
      const ratios = Array.from({ length: ROUNDS }, (_, round) => p99Of('ticker', round) / p99Of(name, round))
      return `${name} ${fmt(median(ratios), 2)}× (${ratios.map((r) => fmt(r, 2)).join(', ')})`
    })
    sections.push([
      `### ${fmt(scenario.subscribers)} subscribers × ${scenario.rate} events/s`,
      '',
      '| server | deliveries/s | Ticker ÷ it | p50 | p95 | p99 | max | missing | duplicated | server CPU | client CPU |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...NAMES.map((name) => `| ${name} | ${fmt(by(name, 'deliveriesPerS'))} | ${fmt(ticker / by(name, 'deliveriesPerS'), 2)}× | ${fmt(by(name, 'p50Ms'), 1)} ms | ${fmt(by(name, 'p95Ms'), 1)} ms | ${fmt(by(name, 'p99Ms'), 1)} ms | ${fmt(by(name, 'maxMs'), 1)} ms | ${fmt(by(name, 'missing'))} | ${fmt(by(name, 'duplicates'))} | ${fmt(by(name, 'serverCpuPct'))} % | ${fmt(by(name, 'clientCpuPct'))} % |`),
      '',
      `Ticker's p99 ÷ theirs, paired by round (median, then each round): ${paired.join('; ')}.`
    ].join('\n'))
  }
  writeSection('fanout', [
    '## Fan-out',
    '',
    `\`npx tsx bench/fanout.ts\` · ${machine()} · ${SECONDS} s per run after a 1 s warm-up, ${ROUNDS} rounds per server, the order reversed every other round (medians shown), ${WORKERS} load-client processes parsing every event, 200-byte payloads published over HTTP. Server and load client share the machine. Latency is publish → parsed by the client. "Ticker ÷ it" is Ticker's deliveries/s over that server's.`,
    '',
    ...sections.flatMap((s) => [s, ''])
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
