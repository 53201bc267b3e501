/**
 * Reconnect storm: N clients reconnect at once with a Last-Event-ID that is 100 events back.
 * Measures the time until every client has caught up (each has all 100 events, exactly once,
 * in order) and the server's CPU over that time. Ticker only: the baselines cannot resume.
 * Two storms per round: to a freshly started process, then to the same process once every stream
 * has dropped (see storms()).
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

type Kind = 'restart' | 'reconnect'
interface Storm { server: string, ms: number, cpuPct: number, clientCpuPct: number, missing: number, duplicates: number, events: number }
interface Run extends Storm { kind: Kind }

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

/** A fresh `name` server with 2×BACK events of history, and the ID BACK events before its end. */
async function withHistory (name: string): Promise<{ server: BenchServer, resumeFrom: string }> {
  const make = SERVERS[name]
  if (make === undefined) throw new Error(`no server ${name}`)
  const server = await make()
  try {
    const ids: string[] = []
    for (let n = 1; n <= 2 * BACK; n++) {
      const res = await fetch(`${server.url}/topics/bench/events`, {
        method: 'POST',
        headers: { authorization: 'Bearer bench-token', 'content-type': 'application/json' },
        body: JSON.stringify({ data: { n, t: performance.timeOrigin + performance.now(), p: PAD } })
      })
      ids.push((await res.json() as { id: string }).id)
    }
    return { server, resumeFrom: ids[BACK - 1] as string }
  } catch (err) {
    await server.stop()
    throw err
  }
}

/** Closes every stream at the client, then waits until the server has closed them too. */
async function dropAll (name: string, server: BenchServer, client: LoadClient): Promise<void> {
  await client.drop()
  const since = performance.now()
  while (await openStreams(server.url) > 0) {
    if (performance.now() - since > 30_000) throw new Error(`${name} still holds streams 30 s after they dropped`)
    await sleep(20)
  }
}

/**
 * Two storms of the same clients on one server process. `restart`: the process has not opened a
 * stream yet (as after a deploy: V8 has not optimised the code that opens streams, and compiles it
 * during the storm). `reconnect`: every stream dropped at once and the clients come back (as after
 * a network outage). The load client's own code is warmed up before, on a server of its own, so the
 * first figure is the server's warm-up, not the client's (browsers have none).
 */
async function storms (name: string): Promise<Record<Kind, Storm>> {
  const client = await LoadClient.spawn(WORKERS) // processes started before the clock runs
  try {
    const warmUp = await withHistory(name)
    try {
      await measure(name, warmUp.server, client, warmUp.resumeFrom)
      await client.drop()
    } finally {
      await warmUp.server.stop()
    }
    const { server, resumeFrom } = await withHistory(name)
    try {
      const restart = await measure(name, server, client, resumeFrom)
      await dropAll(name, server, client)
      const reconnect = await measure(name, server, client, resumeFrom)
      return { restart, reconnect }
    } finally {
      await server.stop()
    }
  } finally {
    await client.close()
  }
}

async function main (): Promise<void> {
  const runs: Run[] = []
  for (let round = 0; round < ROUNDS; round++) {
    // A B, then B A: no build is always the first of a round.
    for (const name of round % 2 === 0 ? NAMES : [...NAMES].reverse()) {
      const storm = await storms(name)
      for (const kind of ['restart', 'reconnect'] as const) {
        const run = storm[kind]
        runs.push({ ...run, kind })
        console.log(`${name} ${kind}: ${CLIENTS} clients × ${BACK} events back: all caught up in ${run.ms.toFixed(0)} ms, server CPU ${run.cpuPct.toFixed(0)} %, client CPU ${run.clientCpuPct.toFixed(0)} %, events ${run.events}, missing ${run.missing}, duplicated ${run.duplicates}`)
      }
    }
  }
  const row = (name: string, kind: Kind): string => {
    const of = runs.filter((r) => r.server === name && r.kind === kind)
    const m = (key: keyof Omit<Storm, 'server'>): number => median(of.map((r) => r[key]))
    const label = kind === 'restart' ? 'to a freshly started process' : 'to the same process, after all dropped'
    return `| ${name} | ${label} | ${m('ms').toFixed(0)} ms (${of.map((r) => r.ms.toFixed(0)).join(', ')}) | ${m('cpuPct').toFixed(0)} % | ${m('clientCpuPct').toFixed(0)} % | ${m('events').toLocaleString('en')} | ${m('missing')} | ${m('duplicates')} |`
  }
  writeSection('reconnect-storm', [
    '## Reconnect storm',
    '',
    `\`npx tsx bench/reconnect-storm.ts\` · ${machine()} · ${CLIENTS.toLocaleString('en')} clients connect at once with a Last-Event-ID ${BACK} events back (${WORKERS} load-client processes); time from the first connect to the last client holding all ${BACK} events, medians of ${ROUNDS} rounds (each round in brackets). The time includes opening the connections (the client processes are started before). Each round is two storms of the same clients on one server process: the first reaches a process that has not opened a stream yet (as after a deploy: V8 has not optimised the code that opens streams, and compiles it during the storm); then all ${CLIENTS.toLocaleString('en')} streams drop at once and, once the server has closed them, the clients reconnect (as after a network outage). The load client is warmed up before each round on a server of its own, so both figures are the server's.`,
    '',
    '| server | storm | all caught up | server CPU | client CPU | events received | missing | duplicated |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...NAMES.flatMap((name) => [row(name, 'restart'), row(name, 'reconnect')])
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
