/**
 * The benchmarks' load client counts what every figure in docs/BENCHMARKS.md rests on: events,
 * missing and duplicated ones. Here it reads a fixture server whose gaps are known, with frames
 * and chunk-size lines split across reads, and a real Ticker, through a drop and a resume.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { LoadClient } from '../../bench/load/client.ts'
import { startApp, waitUntil } from '../helper.ts'

async function loadClient (t: TestContext, workers = 2): Promise<LoadClient> {
  const client = await LoadClient.spawn(workers)
  t.after(() => client.close())
  return client
}

/** An SSE body of events with {"n", "t"} for each n in `sequence`, with a retry and a comment as servers send them. */
function sseBody (sequence: readonly number[]): string {
  const events = sequence.map((n) => `id: ${n}\nevent: a\ndata: {"n":${n},"t":${Date.now()},"pad":"xyz"}\n\n`)
  return `retry: 1000\n\n: hello\n\n${events.join('')}event: reset\ndata: {"topics":["a"]}\n\n`
}

/** `body` in HTTP/1.1 chunks of `size` bytes and the terminating empty chunk. */
function chunked (body: string, size: number): string {
  let out = ''
  for (let i = 0; i < body.length; i += size) {
    const part = body.slice(i, i + size)
    out += `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`
  }
  return `${out}0\r\n\r\n`
}

/** Writes `text` to `socket` five bytes per turn of the event loop. */
async function dribble (socket: Socket, text: string): Promise<void> {
  for (let i = 0; i < text.length && !socket.destroyed; i += 5) {
    socket.write(text.slice(i, i + 5))
    await nextTurn()
  }
}

/**
 * A raw HTTP server: the n-th connection gets `sequences[n]` as chunked SSE, written a few bytes
 * per turn of the loop so frames, chunk data and size lines arrive split. `GET /missing` gets 404.
 */
async function fixtureServer (t: TestContext, sequences: ReadonlyArray<readonly number[]>): Promise<string> {
  let served = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.once('data', (request: Buffer) => {
      if (request.toString('latin1').startsWith('GET /missing ')) {
        socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n')
        return
      }
      const sequence = sequences[served++] ?? []
      const response = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' + chunked(sseBody(sequence), 37)
      dribble(socket, response).catch(() => socket.destroy())
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(async () => {
    for (const socket of sockets) socket.destroy()
    server.close()
    await once(server, 'close')
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return `http://127.0.0.1:${address.port}`
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

test('the load client counts events, missing and duplicated ones, from streams split anywhere', async (t) => {
  const url = await fixtureServer(t, [
    range(1, 10),
    range(1, 10).filter((n) => n !== 5 && n !== 6), // two missing
    [...range(1, 7), 7, 3, ...range(8, 10)], // two duplicates (an old one too)
    range(4, 10) // joined late: counts from its first event
  ])
  const client = await loadClient(t)
  await client.open(url, '/stream', 4)
  const figures = await waitUntil(async () => {
    const f = await client.figures(10)
    return f.events >= 10 + 8 + 12 + 7 && f
  }, 10_000, 'every event of the four streams')
  assert.equal(figures.events, 37)
  assert.equal(figures.missing, 2)
  assert.equal(figures.duplicates, 2)
  assert.equal(figures.connectionsWithGaps, 2)
  assert.equal(figures.errors, 0)
  assert.ok(figures.p50Ms >= 0 && figures.p50Ms <= figures.p99Ms && figures.p99Ms <= figures.maxMs, JSON.stringify(figures))

  // Events the streams never got, once later ones are published, count as missing on each stream.
  assert.equal((await client.figures(12)).missing, 2 + 4 * 2)
})

test('the load client fails an open that is not answered with a stream', async (t) => {
  const url = await fixtureServer(t, [])
  const client = await loadClient(t, 1)
  await assert.rejects(client.open(url, '/missing', 2), /only 0 of 2 streams opened/)
})

test('the load client against Ticker: every event once; after a drop, the replay from Last-Event-ID', async (t) => {
  const { url, app } = await startApp(t, { topics: { a: {} } })
  const client = await loadClient(t)
  await client.open(url, '/topics/a/stream', 20)
  const ids: string[] = []
  for (let n = 1; n <= 40; n++) ids.push((await app.ticker.bus.publish('a', { n, t: Date.now() })).id)
  let figures = await waitUntil(async () => {
    const f = await client.figures(40)
    return f.events >= 20 * 40 && f
  }, 10_000, 'all 40 events on each of 20 streams')
  assert.deepEqual([figures.events, figures.missing, figures.duplicates, figures.errors], [800, 0, 0, 0])

  await client.drop()
  await waitUntil(async () => (await app.inject('/metrics')).body.match(/^ticker_sse_open_streams 0$/m), 5000, 'the server to close the dropped streams')
  await client.open(url, '/topics/a/stream', 20, { 'last-event-id': ids[19] as string })
  figures = await waitUntil(async () => {
    const f = await client.figures(40)
    return f.events >= 20 * 20 && f
  }, 10_000, 'the 20 events after the Last-Event-ID on each stream')
  assert.deepEqual([figures.events, figures.missing, figures.duplicates, figures.errors], [400, 0, 0, 0])
})
