/**
 * HTTP/1.1 pipelining, made safe for never-ending responses.
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
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

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

/**
 * A node:http server that hands requests to `handler` in turn: Fastify's `serverFactory`, given
 * Fastify's resolved options, whose timeouts it sets as Fastify would on its own server.
 */
export function createServerInTurn (handler: Handler, settings: Readonly<Record<string, unknown>>): Server {
  const number = (name: string): number | undefined => (typeof settings[name] === 'number' ? settings[name] : undefined)
  const server = createServer(inTurn(handler))
  server.keepAliveTimeout = number('keepAliveTimeout') ?? server.keepAliveTimeout
  server.requestTimeout = number('requestTimeout') ?? server.requestTimeout
  server.setTimeout(number('connectionTimeout') ?? 0)
  return server
}
