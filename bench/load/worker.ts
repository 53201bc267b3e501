/**
 * One load-client process: holds its share of SSE connections, parses every event and keeps
 * what the driver needs: deliveries, latency (publish → receive), missing and duplicated events
 * per connection, and its own CPU. Started by load/client.ts with fork(); talks over IPC.
 *
 * Events carry {"n": <sequence>, "t": <publish time, epoch ms>} in their data line.
 *
 * Streams are read from raw sockets (HTTP/1.1 head, then chunked or plain body decoded here):
 * the client must cost less than the servers it measures, and node:http's IncomingMessage per
 * stream and 'data' event per chunk cost more than the servers' own writes.
 */
import { connect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { LATENCY_BUCKET_MS, LATENCY_BUCKETS, type WorkerCommand, type WorkerReport } from './protocol.ts'

interface Connection {
  socket?: Socket
  ok: boolean
  /** Bytes after the last complete frame. */
  tail: Buffer | undefined
  /** Chunked decoding: data bytes left in the current chunk (0: a size line comes next). */
  need: number
  /** Chunked decoding: CRLF bytes to skip after a chunk's data. */
  skip: number
  /** Chunked decoding: a size line split across reads. */
  sizeLine: string
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

const EMPTY = Buffer.alloc(0)
const DATA = Buffer.from('data:')
const FRAME_END = Buffer.from('\n\n')
const N_KEY = Buffer.from('"n":')
const T_KEY = Buffer.from('"t":')
// The same keys in an html tile's body (the generic tile's escaped, indented JSON).
const N_KEY_HTML = Buffer.from('&quot;n&quot;: ')
const T_KEY_HTML = Buffer.from('&quot;t&quot;: ')

/**
 * The number that starts at `from` in `buf`: an integer or a decimal (the publish time in epoch
 * ms, with a fraction), read digit by digit: no string per frame.
 */
function numberAt (buf: Buffer, from: number): number {
  let i = from
  const negative = buf[i] === 45 // '-'
  if (negative) i++
  let value = 0
  let c = buf[i] as number
  while (c >= 48 && c <= 57) {
    value = value * 10 + (c - 48)
    c = buf[++i] as number
  }
  if (c === 46) { // '.'
    let scale = 0.1
    c = buf[++i] as number
    while (c >= 48 && c <= 57) {
      value += (c - 48) * scale
      scale /= 10
      c = buf[++i] as number
    }
  }
  return negative ? -value : value
}

/** One frame, buf[start, end): counts an event when it has a data line with "n" and "t". */
function onFrame (conn: Connection, buf: Buffer, start: number, end: number): void {
  const at = buf.indexOf(DATA, start)
  if (at === -1 || at >= end) return // retry:, comments, control events without data
  let [nKey, tKey] = [N_KEY, T_KEY]
  let nAt = buf.indexOf(nKey, at)
  if (nAt === -1 || nAt >= end) {
    [nKey, tKey] = [N_KEY_HTML, T_KEY_HTML]
    nAt = buf.indexOf(nKey, at)
  }
  const tAt = buf.indexOf(tKey, at)
  if (nAt === -1 || tAt === -1 || nAt >= end || tAt >= end) return
  const n = numberAt(buf, nAt + nKey.length)
  const t = numberAt(buf, tAt + tKey.length)
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

/** Decoded body bytes: complete frames are counted, the rest waits for more. */
function body (conn: Connection, chunk: Buffer): void {
  const buf = conn.tail === undefined ? chunk : Buffer.concat([conn.tail, chunk])
  let start = 0
  let boundary = buf.indexOf(FRAME_END, start)
  while (boundary !== -1) {
    onFrame(conn, buf, start, boundary)
    start = boundary + 2
    boundary = buf.indexOf(FRAME_END, start)
  }
  conn.tail = start < buf.length ? buf.subarray(start) : undefined
}

/** HTTP/1.1 chunked transfer decoding: `<hex size>\r\n<data>\r\n`, repeated. */
function dechunk (conn: Connection, data: Buffer): void {
  let i = 0
  while (i < data.length) {
    if (conn.skip > 0) {
      const n = Math.min(conn.skip, data.length - i)
      i += n
      conn.skip -= n
    } else if (conn.need === 0) {
      const lf = data.indexOf(10, i)
      if (lf === -1) {
        conn.sizeLine += data.toString('latin1', i)
        return
      }
      const size = parseInt(conn.sizeLine + data.toString('latin1', i, lf), 16)
      conn.sizeLine = ''
      i = lf + 1
      if (size === 0) return // the last chunk: the server ended the stream
      conn.need = size
    } else {
      const n = Math.min(conn.need, data.length - i)
      body(conn, data.subarray(i, i + n))
      i += n
      conn.need -= n
      if (conn.need === 0) conn.skip = 2
    }
  }
}

/** Where streams are opened, and the request that opens one (the same bytes for every stream). */
interface Target { host: string, port: number, request: Buffer }

function target (url: string, path: string, headers: Record<string, string>): Target {
  const { hostname, port } = new URL(url)
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n${extra}\r\n`, 'latin1')
  return { host: hostname, port: Number(port), request }
}

function open ({ host, port, request }: Target): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn: Connection = { ok: false, tail: undefined, need: 0, skip: 0, sizeLine: '', first: 0, last: 0, received: 0, duplicates: 0 }
    connections.push(conn)
    const socket = connect(port, host)
    conn.socket = socket
    socket.write(request)
    let head: Buffer | undefined = EMPTY
    let chunked = false
    socket.on('data', (data: Buffer) => {
      if (head === undefined) {
        if (chunked) dechunk(conn, data)
        else body(conn, data)
        return
      }
      head = head.length === 0 ? data : Buffer.concat([head, data])
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) return
      const text = head.toString('latin1', 0, end)
      const rest = head.subarray(end + 4)
      head = undefined
      if (!text.startsWith('HTTP/1.1 200')) {
        errors++
        socket.destroy()
        reject(new Error(`stream answered ${text.split('\r\n')[0]}`))
        return
      }
      conn.ok = true
      chunked = /\r\ntransfer-encoding:\s*chunked/i.test(text)
      resolve()
      if (rest.length > 0) {
        if (chunked) dechunk(conn, rest)
        else body(conn, rest)
      }
    })
    socket.on('error', (err) => {
      errors++
      if (!conn.ok) reject(err)
    })
  })
}

/** Connects made before the worker turns to the replies that came meanwhile. */
const CONNECTS_PER_TURN = 50

/**
 * Opens `count` streams, at most `parallel` waiting for their response head at a time. Replies are
 * read between every CONNECTS_PER_TURN connects: with thousands at once, a loop that only connects
 * would leave the first streams' bytes unread until the last connect is made.
 */
async function openAll (to: Target, count: number, parallel: number): Promise<void> {
  const waiting = new Set<Promise<void>>()
  for (let i = 0; i < count; i++) {
    if (waiting.size >= parallel) await Promise.race(waiting)
    const opening: Promise<void> = open(to).catch(() => {}).finally(() => waiting.delete(opening))
    waiting.add(opening)
    if (i % CONNECTS_PER_TURN === CONNECTS_PER_TURN - 1) await nextTurn()
  }
  await Promise.all(waiting)
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

function closeAll (): void {
  for (const c of connections) c.socket?.destroy()
}

function resetCounters (): void {
  events = 0
  latency.fill(0)
  cpuAtStart = process.cpuUsage()
  for (const c of connections) { c.first = 0; c.last = 0; c.received = 0; c.duplicates = 0 }
}

async function handle (command: WorkerCommand): Promise<void> {
  switch (command.kind) {
    case 'open': {
      const { url, path, count, parallel, headers } = command
      const to = target(url, path, headers ?? {})
      await openAll(to, count, parallel)
      process.send?.({ kind: 'opened', open: connections.filter((c) => c.ok).length })
      break
    }
    case 'reset':
      resetCounters()
      process.send?.({ kind: 'reset' })
      break
    case 'drop':
      closeAll()
      connections.length = 0
      errors = 0 // counted per set of connections, unlike the figures that reset() clears
      resetCounters()
      process.send?.({ kind: 'dropped' })
      break
    case 'report':
      lastPublished = command.lastPublished
      process.send?.({ kind: 'report', report: report() })
      break
    case 'close':
      closeAll()
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
process.send?.({ kind: 'ready' })
