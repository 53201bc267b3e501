/**
 * The stream writers (src/sse/writers): the startup proof, the choice between them, and what the
 * slow-reader cutoff relies on, against a real connection, for both writers on the running Node.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type ServerResponse } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { pino } from 'pino'
import { proveWriter, responseWriter, selectWriter, socketChunkWriter, type StreamWriter } from '../../src/sse/writers/index.ts'
import { httpChunk } from '../../src/sse/frame.ts'
import { logCapture, startApp, waitUntil } from '../helper.ts'

const WRITERS: StreamWriter[] = [socketChunkWriter, responseWriter]

for (const writer of WRITERS) {
  test(`${writer.name} writer: passes the startup proof on this Node`, async () => {
    assert.equal(await proveWriter(writer), undefined)
  })

  test(`${writer.name} writer: queued bytes are the bytes the kernel has not taken, counted once`, async (t) => {
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

    const output = writer.start(response, 200, { 'content-type': 'text/event-stream' }, Buffer.from('retry: 10\n\n'))
    await nextTurn()
    const socket = response.socket
    assert.ok(socket !== null)
    const frame = Buffer.alloc(64 * 1024, 'x')
    // Fill the kernel's buffers until Node holds bytes of its own.
    for (let i = 0; i < 10_000 && socket.writableLength === 0; i++) {
      output.write(frame)
      await nextTurn()
    }
    assert.ok(socket.writableLength > 0, 'the socket never backed up')
    output.write(frame)
    await nextTurn()
    assert.equal(output.queuedBytes, socket.writableLength)
  })
}

/**
 * A writer that sends the head through the response, then writes `onWire(bytes, chunk)` straight
 * to the socket from the head's own tick on.
 */
function socketWriter (onWire: (bytes: Buffer, chunk: Buffer | undefined) => Buffer): StreamWriter {
  return {
    name: 'tuned',
    start (res, status, headers, first) {
      res.writeHead(status, headers)
      res.write(first)
      const socket = res.socket
      return {
        res,
        write: (bytes, chunk, done) => { socket?.write(onWire(bytes, chunk), done) },
        onDrain: (listener) => { socket?.once('drain', listener) },
        get queuedBytes () { return res.writableLength }
      }
    }
  }
}

/** Frames nothing: its bytes are not a chunked body. */
const unframed = socketWriter((bytes) => bytes)
/** The tuned writer as it was before Node 24: framed chunks straight to the socket, from the head's own tick. */
const eager = socketWriter((bytes, chunk) => chunk ?? httpChunk(bytes))

test('the proof rejects a writer whose bytes are not a valid response', async () => {
  assert.match(await proveWriter(unframed) ?? '', /./)
})

test('the proof catches what broke on Node 24: socket writes in the tick of the head', async () => {
  const failure = await proveWriter(eager)
  // Node 24 keeps the head in the response until the end of the tick; 20 and 22 put it in the socket at once.
  if (Number(process.versions.node.split('.')[0]) >= 24) assert.match(failure ?? '', /Expected HTTP/)
  else assert.equal(failure, undefined)
})

test('the proof rejects a writer after which a response no longer closes with its connection', async () => {
  const deaf: StreamWriter = {
    name: 'tuned',
    start (res, status, headers, first) {
      const output = socketChunkWriter.start(res, status, headers, first)
      res.socket?.removeAllListeners('close') // as a lost internal listener would
      return output
    }
  }
  assert.match(await proveWriter(deaf) ?? '', /did not close/)
})

test('auto picks the tuned writer where it passes its proof; plain is plain', async (t) => {
  const logs = logCapture()
  const auto = await startApp(t, {}, { logStream: logs.stream })
  assert.equal(auto.app.ticker.hub.writer, 'tuned', `on ${process.version}, the tuned writer should pass its proof`)
  const plain = await startApp(t, { sse: { writer: 'plain' } })
  assert.equal(plain.app.ticker.hub.writer, 'plain')
})

test('a tuned writer that fails its proof is not used: the plain one is, and the log says why, once', async () => {
  const logs = logCapture()
  const log = pino({ level: 'warn' }, logs.stream)
  assert.equal(await selectWriter('auto', log, unframed), responseWriter)
  assert.equal(await selectWriter('auto', log, socketChunkWriter), socketChunkWriter)
  const warnings = logs.lines.filter((l) => String(l.msg).includes('failed its self-test'))
  assert.equal(warnings.length, 1)
  assert.match(String(warnings[0]?.reason), /./)
})
