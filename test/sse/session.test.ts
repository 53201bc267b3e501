/**
 * Session: one open stream's connection. Its queued bytes decide when a slow reader is cut off
 * (sse.maxQueuedBytes), so they are checked against a real connection that stopped reading.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type ServerResponse } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { Session } from '../../src/sse/session.ts'
import { waitUntil } from '../helper.ts'

test('queued bytes are the bytes the peer has not taken, counted once', async (t) => {
  let res: ServerResponse | undefined
  const server = createServer((_req, response) => { res = response })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => { server.closeAllConnections(); server.close() })
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1')
  t.after(() => client.destroy())
  await once(client, 'connect')
  client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  client.pause() // and never reads
  const response = await waitUntil(() => res, 5000, 'the request')

  const session = new Session(response, '127.0.0.1', ['a'], 'json')
  session.start(200, { 'content-type': 'text/event-stream' }, Buffer.from('retry: 10\n\n'))
  const socket = session.socket
  assert.ok(socket !== null, 'a chunked response writes to its socket')
  const frame = Buffer.alloc(64 * 1024, 'x')
  // Fill the kernel's buffers until Node holds bytes of its own.
  for (let i = 0; i < 10_000 && socket.writableLength === 0; i++) session.write(frame)
  assert.ok(socket.writableLength > 0, 'the socket never backed up')
  session.write(frame)
  assert.equal(session.queuedBytes, socket.writableLength)

  session.pending = [{ seq: 1, frame }]
  session.pendingBytes = frame.length
  assert.equal(session.queuedBytes, socket.writableLength + frame.length, 'frames held during a replay count too')
})
