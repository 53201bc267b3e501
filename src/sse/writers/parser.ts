/**
 * Releasing Node's HTTP request parser from a connection that now carries only an event stream.
 *
 * Node keeps a parser on every server connection, ready for the next request of a keep-alive
 * connection: a native llhttp parser with room for 32 header fields, and listeners bound to it
 * (≈2.5 KB per connection, most of it outside the V8 heap). An event stream's response never
 * ends, so that next request can never be answered. Node itself frees the parser when it hands a
 * connection over on 'upgrade'; this does the same for a stream whose head is sent, and idle
 * memory per stream falls by about a third (docs/BENCHMARKS.md).
 *
 * It relies on two Node internals: `freeParser` from `_http_common`, and the names of the
 * server's bound 'data' and 'end' listeners. Where either is missing (a Node that changed them),
 * nothing is touched: the connection keeps its parser, and the stream works the same, with more
 * memory. test/sse/parser.test.ts fails if that happens.
 *
 * After the release, bytes the client sends are read and dropped (a pipelined request cannot be
 * answered behind a response that never ends), and a client's half-close ends the connection,
 * as Node's own 'end' handler would.
 */
import { createRequire } from 'node:module'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

type FreeParser = (parser: unknown, req: IncomingMessage | null, socket: Socket) => void

function loadFreeParser (): FreeParser | undefined {
  try {
    const common: unknown = createRequire(import.meta.url)('_http_common')
    const free: unknown = typeof common === 'object' && common !== null ? Reflect.get(common, 'freeParser') : undefined
    return typeof free === 'function' ? free as FreeParser : undefined
  } catch {
    return undefined
  }
}

const freeParser = loadFreeParser()

const listenerNamed = (socket: Socket, event: string, name: string): ((...args: unknown[]) => void) | undefined =>
  socket.listeners(event).find((listener) => listener.name === name) as ((...args: unknown[]) => void) | undefined

function dropBytes (): void {}

function endOnEnd (this: Socket): void {
  this.end()
}

/**
 * Frees the request parser of `socket` (whose response head is sent) once the parser is done with
 * this turn of the event loop, or, where Node's internals are not as expected, leaves the
 * connection exactly as Node set it up.
 *
 * Not at once: a handler can get here from inside the parser's own callback for this request
 * (hooks that all finish synchronously). llhttp would then go on to complete the message and put
 * the connection back on the server's list with no socket, where server.close() trips over it.
 */
export function releaseParser (socket: Socket, req: IncomingMessage | null): void {
  if (freeParser !== undefined) setImmediate(release, socket, req)
}

function release (socket: Socket, req: IncomingMessage | null): void {
  const parser: unknown = Reflect.get(socket, 'parser')
  if (freeParser === undefined || socket.destroyed || parser === null || parser === undefined) return
  const onData = listenerNamed(socket, 'data', 'bound socketOnData')
  const onEnd = listenerNamed(socket, 'end', 'bound socketOnEnd')
  if (onData === undefined || onEnd === undefined) return
  // Node's own handlers would feed the parser (which may serve another connection by then).
  socket.removeListener('data', onData)
  socket.removeListener('end', onEnd)
  freeParser(parser, req, socket) // stops it reading the socket, returns it to Node's pool
  socket.on('data', dropBytes)
  socket.on('end', endOnEnd)
}
