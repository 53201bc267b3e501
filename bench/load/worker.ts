/**
 * One load-client process: holds its share of SSE connections, parses every event and keeps
 * what the driver needs: deliveries, latency (publish → receive), missing and duplicated events
 * per connection, and its own CPU. Started by load/client.ts with fork(); talks over IPC.
 *
 * Events carry {"n": <sequence>, "t": <publish time, epoch ms>} in their data line.
 */
import { request, type IncomingMessage } from 'node:http'
import { performance } from 'node:perf_hooks'
import { LATENCY_BUCKET_MS, LATENCY_BUCKETS, type WorkerCommand, type WorkerReport } from './protocol.ts'

interface Connection {
  res?: IncomingMessage
  tail: string
  first: number
  last: number
  received: number
  duplicates: number
}

const now = (): number => performance.timeOrigin + performance.now()
const latency = new Uint32Array(LATENCY_BUCKETS)
const connections: Connection[] = []
let events = 0
let lastEventAt = 0
let errors = 0
let lastPublished = 0
let cpuAtStart = process.cpuUsage()

function onFrame (conn: Connection, frame: string): void {
  const at = frame.indexOf('data:')
  if (at === -1) return // retry:, comments, control events without data
  const end = frame.indexOf('\n', at)
  const start = frame.charCodeAt(at + 5) === 32 /* the optional space after the colon */ ? at + 6 : at + 5
  const data = frame.slice(start, end === -1 ? undefined : end)
  if (data.charCodeAt(0) !== 123 /* { */) return
  const { n, t } = JSON.parse(data) as { n?: number, t?: number }
  if (typeof n !== 'number' || typeof t !== 'number') return
  events++
  lastEventAt = now()
  const bucket = Math.min(LATENCY_BUCKETS - 1, Math.max(0, Math.floor((lastEventAt - t) / LATENCY_BUCKET_MS)))
  latency[bucket] = (latency[bucket] ?? 0) + 1
  if (conn.first === 0) conn.first = n
  if (n <= conn.last) conn.duplicates++
  else {
    conn.received++
    conn.last = n
  }
}

function open (url: string, path: string, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn: Connection = { tail: '', first: 0, last: 0, received: 0, duplicates: 0 }
    connections.push(conn)
    const req = request(new URL(path, url), { agent: false, headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      conn.res = res
      if (res.statusCode !== 200) {
        errors++
        res.resume()
        reject(new Error(`stream answered ${res.statusCode}`))
        return
      }
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        let text = conn.tail + chunk
        let boundary = text.indexOf('\n\n')
        while (boundary !== -1) {
          onFrame(conn, text.slice(0, boundary))
          text = text.slice(boundary + 2)
          boundary = text.indexOf('\n\n')
        }
        conn.tail = text
      })
      res.on('error', () => { errors++ })
      resolve()
    })
    req.on('error', (err) => { errors++; reject(err) })
    req.end()
  })
}

function report (): WorkerReport {
  let missing = 0
  let duplicates = 0
  let withGaps = 0
  for (const c of connections) {
    // Events a connection should have seen: from the first it got to the last one published.
    const expected = c.first === 0 ? 0 : lastPublished - c.first + 1
    const lost = Math.max(0, expected - c.received)
    missing += lost
    duplicates += c.duplicates
    if (lost > 0 || c.duplicates > 0) withGaps++
  }
  const cpu = process.cpuUsage(cpuAtStart)
  const sparse: Array<[number, number]> = []
  latency.forEach((count, bucket) => { if (count > 0) sparse.push([bucket, count]) })
  return { events, lastEventAt, missing, duplicates, connectionsWithGaps: withGaps, errors, cpuMs: (cpu.user + cpu.system) / 1000, latency: sparse }
}

async function handle (command: WorkerCommand): Promise<void> {
  switch (command.kind) {
    case 'open': {
      const { url, path, count, parallel, headers } = command
      for (let i = 0; i < count; i += parallel) {
        await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, async () => open(url, path, headers ?? {}).catch(() => {})))
      }
      process.send?.({ kind: 'opened', open: connections.filter((c) => c.res?.statusCode === 200).length })
      break
    }
    case 'reset':
      events = 0
      latency.fill(0)
      cpuAtStart = process.cpuUsage()
      for (const c of connections) { c.first = 0; c.last = 0; c.received = 0; c.duplicates = 0 }
      process.send?.({ kind: 'reset' })
      break
    case 'report':
      lastPublished = command.lastPublished
      process.send?.({ kind: 'report', report: report() })
      break
    case 'close':
      for (const c of connections) c.res?.destroy()
      process.send?.({ kind: 'closed' })
      process.disconnect()
      break
  }
}

process.on('message', (command: WorkerCommand) => {
  handle(command).catch((err: unknown) => {
    console.error(err)
    process.exit(1)
  })
})
