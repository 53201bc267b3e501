/**
 * Reconnect storm: N clients reconnect at once with a Last-Event-ID that is 100 events back.
 * Measures the time until every client has caught up (each has all 100 events, exactly once,
 * in order) and the server's CPU over that time. Ticker only: the baselines cannot resume.
 *
 *     npx tsx bench/reconnect-storm.ts            # 5,000 clients
 *     npx tsx bench/reconnect-storm.ts 1000
 *     BENCH_BASELINE_DIR=/tmp/base BENCH_SERVERS=ticker,ticker-baseline npx tsx bench/reconnect-storm.ts
 *                                                 # this code against another checkout, alternating
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { LoadClient } from './load/client.ts'
import { cpuMsOf } from './lib/processes.ts'
import { machine, median, writeSection } from './lib/report.ts'
import { SERVERS } from './servers/index.ts'

const CLIENTS = Number(process.argv[2] ?? 5000)
const BACK = 100
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2)
/** Builds of Ticker to compare (the others cannot resume). */
const NAMES = process.env.BENCH_SERVERS?.split(',') ?? ['ticker']
const PAD = 'x'.repeat(160)

interface Storm { server: string, ms: number, cpuPct: number, clientCpuPct: number, missing: number, duplicates: number, events: number }

async function storm (name: string): Promise<Storm> {
  const make = SERVERS[name]
  if (make === undefined) throw new Error(`no server ${name}`)
  const server = await make()
  try {
    // History first: 2×BACK events, then everyone resumes from the one BACK events before the end.
    let resumeFrom = ''
    const ids: string[] = []
    for (let n = 1; n <= 2 * BACK; n++) {
      const res = await fetch(`${server.url}/topics/bench/events`, {
        method: 'POST',
        headers: { authorization: 'Bearer bench-token', 'content-type': 'application/json' },
        body: JSON.stringify({ data: { n, t: performance.timeOrigin + performance.now(), p: PAD } })
      })
      ids.push((await res.json() as { id: string }).id)
    }
    resumeFrom = ids[BACK - 1] as string
    const client = await LoadClient.spawn(WORKERS) // processes started before the clock runs
    try {
      await client.reset() // their CPU counts from here
      const cpu0 = cpuMsOf(server.pid)
      const t0 = performance.now()
      await client.open(server.url, server.streamPath, CLIENTS, { 'last-event-id': resumeFrom }, CLIENTS)
      let figures = await client.figures(2 * BACK)
      while (figures.events < CLIENTS * BACK && performance.now() - t0 < 60_000) {
        await sleep(20)
        figures = await client.figures(2 * BACK)
      }
      const ms = performance.now() - t0
      return { server: name, ms, cpuPct: ((cpuMsOf(server.pid) - cpu0) / ms) * 100, clientCpuPct: (figures.cpuMs / ms) * 100, missing: figures.missing, duplicates: figures.duplicates, events: figures.events }
    } finally {
      await client.close()
    }
  } finally {
    await server.stop()
  }
}

async function main (): Promise<void> {
  const runs: Storm[] = []
  for (let round = 0; round < ROUNDS; round++) {
    // A B, then B A: no build is always the first of a round.
    for (const name of round % 2 === 0 ? NAMES : [...NAMES].reverse()) {
      const run = await storm(name)
      runs.push(run)
      console.log(`${name}: ${CLIENTS} clients × ${BACK} events back: all caught up in ${run.ms.toFixed(0)} ms, server CPU ${run.cpuPct.toFixed(0)} %, client CPU ${run.clientCpuPct.toFixed(0)} %, events ${run.events}, missing ${run.missing}, duplicated ${run.duplicates}`)
    }
  }
  const row = (name: string): string => {
    const of = runs.filter((r) => r.server === name)
    const m = (key: keyof Omit<Storm, 'server'>): number => median(of.map((r) => r[key]))
    return `| ${name} | ${CLIENTS.toLocaleString('en')} | ${m('ms').toFixed(0)} ms (${of.map((r) => r.ms.toFixed(0)).join(', ')}) | ${m('cpuPct').toFixed(0)} % | ${m('clientCpuPct').toFixed(0)} % | ${m('events').toLocaleString('en')} | ${m('missing')} | ${m('duplicates')} |`
  }
  writeSection('reconnect-storm', [
    '## Reconnect storm',
    '',
    `\`npx tsx bench/reconnect-storm.ts\` · ${machine()} · ${CLIENTS.toLocaleString('en')} clients connect at once with a Last-Event-ID ${BACK} events back (${WORKERS} load-client processes); time from the first connect to the last client holding all ${BACK} events, medians of ${ROUNDS} rounds (each round in brackets). The time includes opening the connections (the client processes are started before).`,
    '',
    '| server | clients | all caught up | server CPU | client CPU | events received | missing | duplicated |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...NAMES.map(row)
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
