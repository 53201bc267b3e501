/**
 * A stream's connection gives up Node's request parser once the head is sent (src/sse/parser.ts).
 * These tests read the server side of the connection, so a Node that renamed what parser.ts
 * relies on fails here instead of quietly keeping the parser.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import type { TestContext } from 'node:test'
import { publish, startApp, waitUntil } from '../helper.ts'

const TOPICS = { topics: { a: {} } }

/** A raw connection that has sent `request` and collects everything the server sends back. */
async function rawStream (t: TestContext, port: number, request: string, allowHalfOpen = false): Promise<{ socket: Socket, text: () => string }> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen })
  t.after(() => socket.destroy())
  let text = ''
  socket.setEncoding('latin1')
  socket.on('data', (d: string) => { text += d })
  await once(socket, 'connect')
  socket.write(request)
  await waitUntil(() => text.includes('\r\n\r\n'), 5000, 'the response head')
  return { socket, text: () => text }
}

const GET_STREAM = 'GET /topics/a/stream HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n'

test('once the head is sent, the connection no longer holds a request parser, and events flow', async (t) => {
  const { app, url, port } = await startApp(t, TOPICS)
  const serverSockets: Socket[] = []
  app.server.on('connection', (socket: Socket) => serverSockets.push(socket))
  const { text } = await rawStream(t, port, GET_STREAM)
  await waitUntil(() => app.ticker.hub.size === 1, 5000, 'the stream to register')
  assert.equal(serverSockets.length, 1)
  assert.equal(Reflect.get(serverSockets[0] as Socket, 'parser'), null, 'the parser was released')
  const id = await publish(url, 'a', { n: 1 })
  await waitUntil(() => text().includes(`id: ${id}\n`), 5000, 'the event')
})

test('bytes a client sends after its request are dropped; the stream and the server go on', async (t) => {
  const { app, url, port } = await startApp(t, TOPICS)
  const { socket, text } = await rawStream(t, port, GET_STREAM)
  await waitUntil(() => app.ticker.hub.size === 1, 5000, 'the stream to register')
  socket.write('GET /health HTTP/1.1\r\nHost: test\r\n\r\n') // pipelined: cannot be answered
  socket.write('\x00\x01 not http at all \r\n\r\n')
  const id = await publish(url, 'a', { n: 2 })
  await waitUntil(() => text().includes(`id: ${id}\n`), 5000, 'the event after the junk')
  assert.equal(text().split('HTTP/1.1 ').length - 1, 1, 'only the stream\'s own response head')
  assert.equal(app.ticker.hub.size, 1)
  assert.equal((await fetch(`${url}/healthz`)).status, 200)
})

test("a client's half-close ends the connection and the stream", async (t) => {
  const { app, port } = await startApp(t, TOPICS)
  const { socket } = await rawStream(t, port, GET_STREAM, true)
  await waitUntil(() => app.ticker.hub.size === 1, 5000, 'the stream to register')
  const ended = once(socket, 'end')
  socket.end()
  await ended // the server ended its side too
  await waitUntil(() => app.ticker.hub.size === 0, 5000, 'the stream to be forgotten')
  assert.equal(app.ticker.hub.stats().closed.client, 1)
})

test('a stream that is the second request of its connection gives up the parser cleanly; the server still closes', async (t) => {
  const { app, port } = await startApp(t, TOPICS)
  const serverSockets: Socket[] = []
  app.server.on('connection', (socket: Socket) => serverSockets.push(socket))
  const { socket, text } = await rawStream(t, port, 'GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n')
  // Every hook on a stream route finishes synchronously, so its head goes out while Node's
  // parser is still in its callback for the request: releasing the parser there left the
  // connection on the server's list without a socket, and server.close() threw on it.
  socket.write(GET_STREAM)
  await waitUntil(() => text().includes('text/event-stream'), 5000, 'the stream head')
  await waitUntil(() => app.ticker.hub.size === 1, 5000, 'the stream to register')
  assert.equal(serverSockets.length, 1)
  await waitUntil(() => Reflect.get(serverSockets[0] as Socket, 'parser') === null, 5000, 'the parser to be released')
  assert.doesNotThrow(() => app.server.closeIdleConnections())
})
