/**
 * Reconnect storm: N clients reconnect at once with a Last-Event-ID that is 100 events back.
 * Measures the time until every client has caught up (each has all 100 events, exactly once,
 * in order) and the server's CPU over that time. Ticker only: the baselines cannot resume.
 *
 *     npx tsx bench/reconnect-storm.ts            # 5,000 clients
 *     npx tsx bench/reconnect-storm.ts 1000
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
const PAD = 'x'.repeat(160)

async function storm (): Promise<{ ms: number, cpuPct: number, clientCpuPct: number, missing: number, duplicates: number, events: number }> {
  const make = SERVERS.ticker
  if (make === undefined) throw new Error('no ticker server')
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
      return { ms, cpuPct: ((cpuMsOf(server.pid) - cpu0) / ms) * 100, clientCpuPct: (figures.cpuMs / ms) * 100, missing: figures.missing, duplicates: figures.duplicates, events: figures.events }
    } finally {
      await client.close()
    }
  } finally {
    await server.stop()
  }
}

async function main (): Promise<void> {
  const runs = []
  for (let round = 0; round < ROUNDS; round++) {
    const run = await storm()
    runs.push(run)
    console.log(`${CLIENTS} clients × ${BACK} events back: all caught up in ${run.ms.toFixed(0)} ms, server CPU ${run.cpuPct.toFixed(0)} %, client CPU ${run.clientCpuPct.toFixed(0)} %, events ${run.events}, missing ${run.missing}, duplicated ${run.duplicates}`)
  }
  writeSection('reconnect-storm', [
    '## Reconnect storm',
    '',
    `\`npx tsx bench/reconnect-storm.ts\` · ${machine()} · ${CLIENTS.toLocaleString('en')} clients connect at once with a Last-Event-ID ${BACK} events back (${WORKERS} load-client processes); time from the first connect to the last client holding all ${BACK} events, medians of ${ROUNDS} rounds. The time includes opening the connections (the client processes are started before).`,
    '',
    '| clients | all caught up | server CPU | client CPU | events received | missing | duplicated |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    `| ${CLIENTS.toLocaleString('en')} | ${median(runs.map((r) => r.ms)).toFixed(0)} ms | ${median(runs.map((r) => r.cpuPct)).toFixed(0)} % | ${median(runs.map((r) => r.clientCpuPct)).toFixed(0)} % | ${median(runs.map((r) => r.events)).toLocaleString('en')} | ${median(runs.map((r) => r.missing))} | ${median(runs.map((r) => r.duplicates))} |`
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
