/**
 * The HTTP server Fastify runs on (its `serverFactory`): Node's server with two rules of our own.
 *
 * 1. HTTP/1.1 pipelining, made safe for never-ending responses.
 *
 * Node hands every request of a connection to the app as soon as it is parsed, even while an
 * earlier response on that connection is still being written; the later responses wait in line
 * and are sent in order. Behind an event stream, whose response never ends, they would wait
 * forever: a pipelined POST would be executed and never answered, and a pipelined stream request
 * would hold a session and a connection slot with no way to ever write to it.
 *
 * So a request reaches the app only when its response is first in line on its connection:
 * requests behind ordinary responses are handled in turn, requests behind a stream never (they
 * go with the connection). Beyond MAX_WAITING waiting requests the connection is closed, so a
 * client cannot pile up parsed requests behind a stream.
 *
 * 2. What Node would answer by itself (a missing Host header, an Expect it cannot meet, CONNECT)
 *    is answered `{code, message}` like every other error: Node's own check for Host is off, and
 *    the app checks it (plugins/errors.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import { ExpectationFailedError, MethodNotAllowedError } from '../errors.ts'

/**
 * Requests one connection may have waiting behind the response being written: deeper than
 * benchmark tools pipeline (wrk's scripts use 16), far below what would cost memory. Node parses
 * every request of a packet at once, so the bound is enforced by closing the connection.
 */
export const MAX_WAITING = 32

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** `handler`, called for each request only once its response is first in line on its connection. */
export function inTurn (handler: Handler): Handler {
  const waiting = new WeakMap<Socket, number>()
  return (req, res) => {
    if (res.socket !== null) {
      handler(req, res)
      return
    }
    const socket = req.socket
    const count = (waiting.get(socket) ?? 0) + 1
    if (count > MAX_WAITING) {
      socket.destroy()
      return
    }
    waiting.set(socket, count)
    res.once('socket', () => {
      waiting.set(socket, (waiting.get(socket) ?? 1) - 1)
      handler(req, res)
    })
  }
}

/** How often Node looks for requests past their timeout, at most. */
const MAX_CHECK_INTERVAL_MS = 30_000

/** A JSON error answer written straight to a connection that Node will not hand to the app. */
export function rawErrorAnswer (error: { code: string, message: string, statusCode: number }, statusText: string): string {
  const body = JSON.stringify({ code: error.code, message: error.message })
  return `HTTP/1.1 ${error.statusCode} ${statusText}\r\nConnection: close\r\n` +
    `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
}

/**
 * A node:http server that hands requests to `handler` in turn: Fastify's `serverFactory`, given
 * Fastify's resolved options, whose timeouts it sets as Fastify would on its own server.
 */
export function createServerInTurn (handler: Handler, settings: Readonly<Record<string, unknown>>): Server {
  const number = (name: string): number | undefined => (typeof settings[name] === 'number' ? settings[name] : undefined)
  const requestTimeout = number('requestTimeout') ?? 0
  const server = createServer({
    requireHostHeader: false,
    requestTimeout,
    // Node requires headersTimeout <= requestTimeout; its default is 60 s.
    ...(requestTimeout > 0 ? { headersTimeout: Math.min(60_000, requestTimeout) } : {}),
    connectionsCheckingInterval: requestTimeout > 0 ? Math.min(MAX_CHECK_INTERVAL_MS, Math.max(50, requestTimeout / 4)) : MAX_CHECK_INTERVAL_MS
  }, inTurn(handler))
  server.keepAliveTimeout = number('keepAliveTimeout') ?? server.keepAliveTimeout
  server.setTimeout(number('connectionTimeout') ?? 0)
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    const error = new ExpectationFailedError()
    const body = JSON.stringify({ code: error.code, message: error.message })
    res.writeHead(error.statusCode, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' })
    res.end(body)
  })
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.end(rawErrorAnswer(new MethodNotAllowedError(), 'Method Not Allowed'))
  })
  return server
}
