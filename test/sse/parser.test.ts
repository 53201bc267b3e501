/**
 * A stream's connection gives up Node's request parser once the head is sent, with the tuned
 * writer (src/sse/writers/parser.ts). These tests read the server side of the connection, so a
 * Node that renamed what parser.ts relies on fails here instead of quietly keeping the parser.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { RawConnection, publish, rawGet, startApp, waitUntil } from '../helper.ts'

const TOPICS = { topics: { a: {} } }
const GET_STREAM = rawGet('/topics/a/stream', 'Accept: text/event-stream\r\n')

test('once the head is sent, the connection no longer holds a request parser, and events flow', async (t) => {
  const { app, url, port } = await startApp(t, TOPICS)
  const serverSockets: Socket[] = []
  app.server.on('connection', (socket: Socket) => serverSockets.push(socket))
  const conn = await RawConnection.open(t, port)
  conn.send(GET_STREAM)
  await conn.received('\r\n\r\n')
  await waitUntil(() => app.ticker.hub.size === 1, 5000, 'the stream to register')
  assert.equal(serverSockets.length, 1)
  await waitUntil(() => Reflect.get(serverSockets[0] as Socket, 'parser') === null, 5000, 'the parser to be released')
  const id = await publish(url, 'a', { n: 1 })
  await conn.received(`id: ${id}\n`)
})

test('bytes a client sends after its request are dropped; the stream and the server go on', async (t) => {
  const { app, url, port } = await startApp(t, TOPICS)
  const conn = await RawConnection.open(t, port)
  conn.send(GET_STREAM)
  await conn.received('\r\n\r\n')
  await waitUntil(() => app.ticker.hub.size === 1, 5000, 'the stream to register')
  conn.send(rawGet('/health')) // pipelined: cannot be answered
  conn.send('\x00\x01 not http at all \r\n\r\n')
  const id = await publish(url, 'a', { n: 2 })
  await conn.received(`id: ${id}\n`)
  assert.equal(conn.text.split('HTTP/1.1 ').length - 1, 1, 'only the stream\'s own response head')
  assert.equal(app.ticker.hub.size, 1)
  assert.equal((await fetch(`${url}/healthz`)).status, 200)
})

test("a client's half-close ends the connection and the stream", async (t) => {
  const { app, port } = await startApp(t, TOPICS)
  const conn = await RawConnection.open(t, port, { allowHalfOpen: true })
  conn.send(GET_STREAM)
  await conn.received('\r\n\r\n')
  await waitUntil(() => app.ticker.hub.size === 1, 5000, 'the stream to register')
  const ended = once(conn.socket, 'end')
  conn.socket.end()
  await ended // the server ended its side too
  await waitUntil(() => app.ticker.hub.size === 0, 5000, 'the stream to be forgotten')
  assert.equal(app.ticker.hub.stats().closed.client, 1)
})

test('a stream that is the second request of its connection gives up the parser cleanly; the server still closes', async (t) => {
  const { app, port } = await startApp(t, TOPICS)
  const serverSockets: Socket[] = []
  app.server.on('connection', (socket: Socket) => serverSockets.push(socket))
  const conn = await RawConnection.open(t, port)
  conn.send(rawGet('/healthz'))
  await conn.received('\r\n\r\n')
  // Every hook on a stream route finishes synchronously, so its head goes out while Node's
  // parser is still in its callback for the request: releasing the parser there left the
  // connection on the server's list without a socket, and server.close() threw on it.
  conn.send(GET_STREAM)
  await conn.received('text/event-stream')
  await waitUntil(() => app.ticker.hub.size === 1, 5000, 'the stream to register')
  assert.equal(serverSockets.length, 1)
  await waitUntil(() => Reflect.get(serverSockets[0] as Socket, 'parser') === null, 5000, 'the parser to be released')
  assert.doesNotThrow(() => app.server.closeIdleConnections())
})
