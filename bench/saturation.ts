/**
 * Saturation: 2,000 subscribers, the publish rate stepped up (×√2 per step) until p99 latency
 * passes 1 s or events are lost; the highest rate held is the figure. Servers alternate at each
 * step.
 *
 *     npx tsx bench/saturation.ts                 # 2,000 subscribers, 25 → 1,600 events/s
 *     BENCH_SERVERS=ticker,nchan npx tsx bench/saturation.ts 1000
 */
import { machine, writeSection } from './lib/report.ts'
import { runFanout, type Run } from './lib/run.ts'
import { defaultServers } from './servers/index.ts'

const SUBSCRIBERS = Number(process.argv[2] ?? 2000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2)
const NAMES = process.env.BENCH_SERVERS?.split(',') ?? defaultServers()
const RATES = [25, 35, 50, 70, 100, 140, 200, 280, 400, 560, 800, 1120, 1600]
const P99_LIMIT_MS = 1000

const held = (run: Run): boolean => run.p99Ms <= P99_LIMIT_MS && run.missing === 0 && run.duplicates === 0

async function main (): Promise<void> {
  const best = new Map<string, Run | undefined>(NAMES.map((n) => [n, undefined]))
  const failed = new Set<string>()
  for (const rate of RATES) {
    for (const name of NAMES) {
      if (failed.has(name)) continue
      const run = await runFanout(name, { subscribers: SUBSCRIBERS, rate }, SECONDS, WORKERS)
      console.log(`${name} at ${rate}/s: ${Math.round(run.deliveriesPerS)} deliveries/s, p99 ${run.p99Ms.toFixed(1)} ms, missing ${run.missing}${held(run) ? '' : '  ← not held'}`)
      if (held(run)) best.set(name, run)
      else failed.add(name)
    }
    if (failed.size === NAMES.length) break
  }
  const tickerRate = best.get('ticker')?.published ?? 0
  writeSection('saturation', [
    '## Saturation',
    '',
    `\`npx tsx bench/saturation.ts\` · ${machine()} · ${SUBSCRIBERS.toLocaleString('en')} subscribers; the rate steps up by about √2 from ${RATES[0]}/s (${SECONDS} s per step, a fresh server each time) until p99 > ${P99_LIMIT_MS} ms or an event is lost. Highest rate held per server; "held up to ${RATES.at(-1)}" means the top step passed.`,
    '',
    '| server | highest rate held | deliveries/s there | p99 there | Ticker ÷ it |',
    '|---|---:|---:|---:|---:|',
    ...NAMES.map((name) => {
      const run = best.get(name)
      if (run === undefined) return `| ${name} | below ${RATES[0]}/s | – | – | – |`
      const rate = run.published / SECONDS
      return `| ${name} | ${rate.toFixed(0)}/s | ${Math.round(run.deliveriesPerS).toLocaleString('en')} | ${run.p99Ms.toFixed(1)} ms | ${(tickerRate / run.published).toFixed(2)}× |`
    })
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
