/**
 * The startup self-test of a stream writer: on a loopback pair, it opens a stream with the
 * writer, writes in each of the ways the hub does (in the same tick as the head, after the
 * writer settled, with and without a ready-made chunk), and reads the bytes back with Node's
 * strict HTTP client: status, head, and body byte for byte. It also checks that the writer's
 * queued-bytes figure counts bytes still in the socket, on which the slow-reader cutoff relies,
 * and that a settled stream's response still says `close` when its client goes (a session ends
 * on that: no session may outlive its connection).
 *
 * Whatever broke the tuned writer on a new Node major (bytes before the status line, framing,
 * accounting, a lost close) fails here, and the process uses the plain writer instead.
 */
import { once } from 'node:events'
import { createServer, get, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { httpChunk } from '../frame.ts'
import type { StreamOutput, StreamWriter } from './types.ts'

const PROOF_TIMEOUT_MS = 5000
const part = (text: string): Buffer => Buffer.from(text)

async function written (output: StreamOutput, bytes: Buffer, chunk?: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    output.write(bytes, chunk, (err) => { if (err == null) resolve(); else reject(err) })
  })
}

/** Runs the server side of the proof on `res`; returns the bytes the body must hold. */
async function serve (writer: StreamWriter, res: ServerResponse): Promise<Buffer> {
  const parts = [part('retry: 1000\n\n'), part('id: e-1\nevent: a\ndata: {"n":1}\n\n')]
  const output = writer.start(res, 200, { 'content-type': 'text/event-stream; charset=utf-8' }, parts[0] as Buffer)
  output.write(parts[1] as Buffer) // same tick as the head
  await written(output, part(': settle\n\n'))
  parts.push(part(': settle\n\n'))
  await nextTurn()
  const shared = part('id: e-2\nevent: a\ndata: {"n":2}\n\n')
  parts.push(shared)
  output.write(shared, httpChunk(shared))
  const socket = res.socket
  if (socket === null) throw new Error('the response lost its socket')
  const counted = part(': counted\n\n')
  parts.push(counted)
  socket.cork()
  output.write(counted)
  const queued = output.queuedBytes
  socket.uncork()
  if (queued < counted.length) throw new Error(`queued bytes do not count the socket's (${queued} < ${counted.length})`)
  const last = part('id: e-3\nevent: a\ndata: {"n":3}\n\n')
  parts.push(last)
  await written(output, last)
  res.end()
  return Buffer.concat(parts)
}

/** The server side of the close check: a settled stream whose client goes must see its response close. */
async function serveUntilClose (writer: StreamWriter, res: ServerResponse): Promise<void> {
  const closed = once(res, 'close')
  const output = writer.start(res, 200, { 'content-type': 'text/event-stream; charset=utf-8' }, part('retry: 1000\n\n'))
  await written(output, part(': settle\n\n'))
  await nextTurn() // the tuned writer releases the parser in the turn after it settles
  await nextTurn()
  output.write(part(': go\n\n')) // the client leaves when it reads this
  await closed
}

/** Opens the close check's stream and leaves as soon as the server says so. */
async function leave (port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/close', agent: false }, (res) => {
      let text = ''
      res.setEncoding('latin1')
      res.on('data', (d: string) => {
        text += d
        if (text.includes(': go')) {
          req.destroy()
          resolve()
        }
      })
    })
    req.on('error', reject)
  })
}

async function read (port: number): Promise<{ res: IncomingMessage, body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject) // a parse error comes here, also after the head
  })
}

/** Undefined when `writer` wrote exactly the right bytes on this Node; otherwise why not. */
export async function proveWriter (writer: StreamWriter): Promise<string | undefined> {
  let served: Promise<Buffer> | undefined
  let closed: Promise<void> | undefined
  const server = createServer((req, res) => {
    if (req.url === '/close') {
      closed = serveUntilClose(writer, res)
      return
    }
    served = serve(writer, res)
    served.catch(() => res.destroy())
  })
  const timer = setTimeout(() => server.closeAllConnections(), PROOF_TIMEOUT_MS)
  try {
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    // The server side's own failure, when there is one, says more than the client's.
    const { res, body } = await read((server.address() as AddressInfo).port).catch(async (err: unknown) => {
      await served
      throw err
    })
    const want = await (served ?? Promise.reject(new Error('the request never reached the server')))
    if (res.statusCode !== 200) return `status ${String(res.statusCode)} instead of 200`
    if (res.headers['content-type'] !== 'text/event-stream; charset=utf-8') return `content-type ${String(res.headers['content-type'])}`
    if (!body.equals(want)) return `the body differs: ${JSON.stringify(body.toString('latin1').slice(0, 200))}`
    await leave((server.address() as AddressInfo).port)
    const timeout = new Promise<string>((resolve) => setTimeout(resolve, PROOF_TIMEOUT_MS, 'the response did not close when its client left').unref())
    return await Promise.race([(closed ?? Promise.reject(new Error('the close check never reached the server'))).then(() => undefined), timeout])
  } catch (err) {
    return (err as Error).message
  } finally {
    clearTimeout(timer)
    server.closeAllConnections()
    server.close()
  }
}
