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
import { SERVERS, type BenchServer } from './servers/index.ts'

const CLIENTS = Number(process.argv[2] ?? 5000)
const BACK = 100
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2)
/** Builds of Ticker to compare (the others cannot resume). */
const NAMES = process.env.BENCH_SERVERS?.split(',') ?? ['ticker']
const PAD = 'x'.repeat(160)

interface Storm { server: string, ms: number, cpuPct: number, clientCpuPct: number, missing: number, duplicates: number, events: number }

/** The server's open streams, from its /metrics. */
async function openStreams (url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = /^ticker_sse_open_streams (\d+)/m.exec(text)
  if (line === null) throw new Error('no ticker_sse_open_streams in /metrics')
  return Number(line[1])
}

/** Opens CLIENTS streams at once from `resumeFrom` and waits until each has the BACK events after it. */
async function measure (name: string, server: BenchServer, client: LoadClient, resumeFrom: string): Promise<Storm> {
  await client.reset() // the clients' CPU counts from here
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
}

/**
 * Two storms on one server: the first connects to a process that has never opened a stream
 * (a restarted server: its code not yet optimised by V8); then every stream drops at once and
 * the same clients come back (the server has served them, as after a network outage).
 */
async function storms (name: string): Promise<{ cold: Storm, reconnect: Storm }> {
  const make = SERVERS[name]
  if (make === undefined) throw new Error(`no server ${name}`)
  const server = await make()
  try {
    // History first: 2×BACK events, then everyone resumes from the one BACK events before the end.
    const ids: string[] = []
    for (let n = 1; n <= 2 * BACK; n++) {
      const res = await fetch(`${server.url}/topics/bench/events`, {
        method: 'POST',
        headers: { authorization: 'Bearer bench-token', 'content-type': 'application/json' },
        body: JSON.stringify({ data: { n, t: performance.timeOrigin + performance.now(), p: PAD } })
      })
      ids.push((await res.json() as { id: string }).id)
    }
    const resumeFrom = ids[BACK - 1] as string
    const client = await LoadClient.spawn(WORKERS) // processes started before the clock runs
    try {
      const cold = await measure(name, server, client, resumeFrom)
      await client.drop()
      const since = performance.now()
      while (await openStreams(server.url) > 0) {
        if (performance.now() - since > 30_000) throw new Error(`${name} still holds streams 30 s after they dropped`)
        await sleep(20)
      }
      const reconnect = await measure(name, server, client, resumeFrom)
      return { cold, reconnect }
    } finally {
      await client.close()
    }
  } finally {
    await server.stop()
  }
}

type Kind = 'cold' | 'reconnect'
interface Run extends Storm { kind: Kind }

async function main (): Promise<void> {
  const runs: Run[] = []
  for (let round = 0; round < ROUNDS; round++) {
    // A B, then B A: no build is always the first of a round.
    for (const name of round % 2 === 0 ? NAMES : [...NAMES].reverse()) {
      const { cold, reconnect } = await storms(name)
      for (const [kind, run] of [['cold', cold], ['reconnect', reconnect]] as const) {
        runs.push({ ...run, kind })
        console.log(`${name} ${kind}: ${CLIENTS} clients × ${BACK} events back: all caught up in ${run.ms.toFixed(0)} ms, server CPU ${run.cpuPct.toFixed(0)} %, client CPU ${run.clientCpuPct.toFixed(0)} %, events ${run.events}, missing ${run.missing}, duplicated ${run.duplicates}`)
      }
    }
  }
  const row = (name: string, kind: Kind): string => {
    const of = runs.filter((r) => r.server === name && r.kind === kind)
    const m = (key: keyof Omit<Storm, 'server'>): number => median(of.map((r) => r[key]))
    const label = kind === 'cold' ? 'first connect to a fresh process' : 'reconnect after all dropped'
    return `| ${name} | ${label} | ${m('ms').toFixed(0)} ms (${of.map((r) => r.ms.toFixed(0)).join(', ')}) | ${m('cpuPct').toFixed(0)} % | ${m('clientCpuPct').toFixed(0)} % | ${m('events').toLocaleString('en')} | ${m('missing')} | ${m('duplicates')} |`
  }
  writeSection('reconnect-storm', [
    '## Reconnect storm',
    '',
    `\`npx tsx bench/reconnect-storm.ts\` · ${machine()} · ${CLIENTS.toLocaleString('en')} clients connect at once with a Last-Event-ID ${BACK} events back (${WORKERS} load-client processes); time from the first connect to the last client holding all ${BACK} events, medians of ${ROUNDS} rounds (each round in brackets). The time includes opening the connections (the client processes are started before). Each round is two storms on one server process: the first reaches a process that has not opened a stream yet (as after a restart: V8 has not optimised the code that opens streams, and compiles it during the storm); then all ${CLIENTS.toLocaleString('en')} streams drop at once and, once the server has closed them, the same clients reconnect (as after a network outage).`,
    '',
    '| server | storm | all caught up | server CPU | client CPU | events received | missing | duplicated |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...NAMES.flatMap((name) => [row(name, 'cold'), row(name, 'reconnect')])
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
