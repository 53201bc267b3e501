/**
 * The SSE servers a benchmark can compare, each started fresh as its own process with the same
 * shape: a stream URL that carries every published event, and a publish function.
 */
import { Agent, request } from 'node:http'
import { startProcess, type Started } from '../lib/processes.ts'
import { argsOf, startTicker } from '../lib/ticker-process.ts'
import type { WriterMode } from '../../src/sse/writers/index.ts'
import { startRedis } from '../../test/redis.ts'
import { nchanAvailable, startNchan } from './nchan.ts'

export interface BenchServer {
  readonly name: string
  readonly url: string
  readonly pid: number
  /** The Redis it runs on, if any (its CPU is part of the cost). */
  readonly redisPid?: number
  /** Path of a stream that receives every published event. */
  readonly streamPath: string
  publish (data: unknown): Promise<void>
  stop (): Promise<void>
}

/**
 * One keep-alive connection for every publish request: requests queue on it, so the server
 * accepts events in the order of their sequence numbers (with several sockets two publishes can
 * overtake each other, and every client would see a "gap" and a "duplicate").
 */
const agent = new Agent({ keepAlive: true, maxSockets: 1 })

async function post (url: string, body: unknown, headers: Record<string, string> = {}): Promise<void> {
  const payload = JSON.stringify(body)
  await new Promise<void>((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => ((res.statusCode ?? 500) >= 300 ? reject(new Error(`publish answered ${res.statusCode}: ${text}`)) : resolve()))
    })
    req.on('error', reject)
    req.end(payload)
  })
}

function wrap (name: string, started: Started, streamPath: string, publish: (data: unknown) => Promise<void>): BenchServer {
  const pid = started.child.pid
  if (pid === undefined) throw new Error(`${name} has no pid`)
  return { name, url: started.url, pid, streamPath, publish, stop: started.stop }
}

const TOKEN = 'bench-token'

/** A Node baseline script that prints "listening <url>" and serves GET /stream and POST /publish. */
async function nodeBaseline (name: string, script: string): Promise<BenchServer> {
  const started = await startProcess(process.execPath, ['--import', 'tsx', script], /listening (http:\/\/\S+)/, { PORT: '0' })
  return wrap(name, started, '/stream', async (data) => post(`${started.url}/publish`, data))
}

export interface ServerOptions {
  /** Events kept for replay (Ticker). */
  readonly capacity?: number
}

/**
 * Ticker as benchmarked: one topic, limits raised for thousands of streams from one address.
 * `checkout`: another working tree of this repository (see BENCH_BASELINE_DIR).
 */
async function ticker (name: string, options: ServerOptions, checkout?: string, nodeArgs?: string[], writer?: WriterMode,
  bus?: Record<string, unknown>): Promise<BenchServer> {
  const started = await startTicker({
    ...(bus === undefined ? {} : { bus }),
    topics: { bench: { capacity: options.capacity ?? 1000 } },
    log: { level: 'warn', format: 'json', requests: false },
    sse: {
      maxConnections: 50_000,
      maxConnectionsPerIp: 50_000,
      maxQueuedBytes: 8 * 1024 * 1024,
      flushIntervalMs: Number(process.env.BENCH_FLUSH_MS ?? 10),
      // Left out for checkouts from before the setting existed.
      ...(writer === undefined ? {} : { writer })
    },
    metrics: { enabled: true },
    dashboards: { main: { title: 'bench', tiles: [{ topic: 'bench' }] } }
  }, { TICKER_PUBLISH_TOKEN: TOKEN }, checkout, nodeArgs)
  return wrap(name, started, '/topics/bench/stream', async (data) =>
    post(`${started.url}/topics/bench/events`, { data }, { authorization: `Bearer ${TOKEN}` }))
}

/**
 * BENCH_BASELINE_DIR: a second working tree of this repository (`git worktree add /tmp/base
 * HEAD~1`, with node_modules linked in), measured as `ticker-baseline` when BENCH_SERVERS names
 * it: a change against the code before it, in the same run. BENCH_BASELINE_NODE_ARGS, if set,
 * replaces BENCH_NODE_ARGS for it: with BENCH_BASELINE_DIR=. that compares node flags alone.
 */
const baselineDir = process.env.BENCH_BASELINE_DIR
const baselineNodeArgs = process.env.BENCH_BASELINE_NODE_ARGS

export const SERVERS: Record<string, (options?: ServerOptions) => Promise<BenchServer>> = {
  ticker: async (options = {}) => ticker('ticker', options),
  // On a Redis of its own (Debian's redis-server, started for the run and stopped by its PID).
  async 'ticker-redis' (options = {}) {
    const redis = await startRedis()
    const server = await ticker('ticker-redis', options, undefined, undefined, undefined,
      { backend: 'redis', redis: { url: redis.url, keyPrefix: 'bench' } })
    return { ...server, redisPid: redis.pid, stop: async () => { await server.stop(); await redis.dispose() } }
  },
  // The same streams as rendered tiles (format=html): each event is rendered once, then fanned out.
  async 'ticker-html' (options = {}) {
    const server = await ticker('ticker-html', options)
    return { ...server, streamPath: `${server.streamPath}?format=html` }
  },
  // The plain stream writer (public Node API only), the fallback where the tuned one fails its proof.
  'ticker-plain': async (options = {}) => ticker('ticker-plain', options, undefined, undefined, 'plain'),
  async 'ticker-baseline' (options = {}) {
    if (baselineDir === undefined) throw new Error('ticker-baseline needs BENCH_BASELINE_DIR: a second working tree of this repository')
    return ticker('ticker-baseline', options, baselineDir, baselineNodeArgs === undefined ? undefined : argsOf(baselineNodeArgs))
  },
  naive: async () => nodeBaseline('naive', 'bench/servers/naive-fastify.ts'),
  'better-sse': async () => nodeBaseline('better-sse', 'bench/servers/better-sse.ts'),
  'fastify-sse-v2': async () => nodeBaseline('fastify-sse-v2', 'bench/servers/fastify-sse-v2.ts'),
  // A reference, not a peer (see the file); only when named in BENCH_SERVERS.
  'node-floor': async () => nodeBaseline('node-floor', 'bench/servers/node-floor.ts'),
  async nchan () {
    const started = await startNchan()
    return wrap('nchan', started, '/stream', async (data) => post(`${started.url}/pub`, data))
  }
}

/** Servers measured only when BENCH_SERVERS names them. */
const REFERENCES = new Set(['node-floor', 'ticker-baseline', 'ticker-plain', 'ticker-redis', 'ticker-html'])

/**
 * What a bench compares unless BENCH_SERVERS says otherwise: Ticker first, then its peers, nchan
 * only where nginx and the module are installed.
 */
export function defaultServers (): string[] {
  const names = Object.keys(SERVERS).filter((n) => !REFERENCES.has(n))
  if (nchanAvailable()) return names
  console.warn('nchan is not installed (apt-get install nginx-light libnginx-mod-nchan): comparing without it')
  return names.filter((n) => n !== 'nchan')
}
