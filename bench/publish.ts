/**
 * Publish API throughput: P concurrent publishers, each posting one event after another on its
 * own keep-alive connection, for S seconds, to Ticker on memory and on Redis (same run,
 * alternating). Afterwards the topic's history is checked: IDs unique and in one order.
 *
 *     npx tsx bench/publish.ts                    # 64 publishers
 *     BENCH_PUBLISHERS=16 npx tsx bench/publish.ts
 */
import { Agent, request } from 'node:http'
import { performance } from 'node:perf_hooks'
import { cpuMsOf } from './lib/processes.ts'
import { machine, median, writeSection } from './lib/report.ts'
import { SERVERS } from './servers/index.ts'

const PUBLISHERS = Number(process.env.BENCH_PUBLISHERS ?? 64)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const NAMES = process.env.BENCH_SERVERS?.split(',') ?? ['ticker', 'ticker-redis']
const TOKEN = 'bench-token'
const WARM_UP_MS = 2000
const BODY = JSON.stringify({ data: { p: 'x'.repeat(160) } })

async function post (url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/topics/bench/events`, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), authorization: `Bearer ${TOKEN}` }
    }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(BODY)
  })
}

interface Result { server: string, perS: number, errors: number, ordered: boolean, cpuPct: number }

async function measure (name: string): Promise<Result> {
  const make = SERVERS[name]
  if (make === undefined) throw new Error(`unknown server ${name}`)
  const server = await make({ capacity: 1000 })
  try {
    const agents = Array.from({ length: PUBLISHERS }, () => new Agent({ keepAlive: true, maxSockets: 1 }))
    const cpu = (): number => cpuMsOf(server.pid) + (server.redisPid === undefined ? 0 : cpuMsOf(server.redisPid))
    let ok = 0
    let errors = 0
    const publishUntil = async (until: number): Promise<void> => {
      await Promise.all(agents.map(async (agent) => {
        while (performance.now() < until) {
          if (await post(server.url, agent).catch(() => 0) === 201) ok++
          else errors++
        }
      }))
    }
    await publishUntil(performance.now() + WARM_UP_MS) // V8 optimises the publish path first
    ok = 0
    errors = 0
    const cpu0 = cpu()
    const t0 = performance.now()
    await publishUntil(t0 + SECONDS * 1000)
    const elapsed = performance.now() - t0
    const cpuPct = ((cpu() - cpu0) / elapsed) * 100
    for (const agent of agents) agent.destroy()
    const history = await (await fetch(`${server.url}/topics/bench/events?limit=1000`)).json() as { events: Array<{ id: string }> }
    const seqs = history.events.map((e) => Number(e.id.split('-')[1]))
    const ordered = seqs.every((seq, i) => i === 0 || seq > (seqs[i - 1] as number))
    return { server: name, perS: ok / (elapsed / 1000), errors, ordered, cpuPct }
  } finally {
    await server.stop()
  }
}

async function main (): Promise<void> {
  const results: Result[] = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? NAMES : [...NAMES].reverse()) {
      const result = await measure(name)
      results.push(result)
      console.log(`${name} round ${round + 1}: ${Math.round(result.perS).toLocaleString('en')} events/s accepted, errors ${result.errors}, history in one order: ${result.ordered}, server CPU ${Math.round(result.cpuPct)} %`)
    }
  }
  const rows = NAMES.map((name) => {
    const mine = results.filter((r) => r.server === name)
    return `| ${name} | ${Math.round(median(mine.map((r) => r.perS))).toLocaleString('en')} | ${mine.reduce((n, r) => n + r.errors, 0)} | ${mine.every((r) => r.ordered) ? 'yes' : '**no**'} | ${Math.round(median(mine.map((r) => r.cpuPct)))} % |`
  })
  writeSection('publish', [
    '## Publish API throughput',
    '',
    `\`npx tsx bench/publish.ts\` · ${machine()} · ${PUBLISHERS} publishers, each posting one 200-byte event after another on its own keep-alive connection, ${SECONDS} s after a ${WARM_UP_MS / 1000} s warm-up, medians of ${ROUNDS} alternating rounds. "In one order": the topic's last 1,000 IDs strictly increasing. Server CPU includes Redis's for ticker-redis.`,
    '',
    '| server | events/s accepted | errors | in one order | server CPU |',
    '|---|---:|---:|---|---:|',
    ...rows
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
