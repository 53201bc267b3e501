/**
 * Every way a request can fail answers `{code, message}` (errors.ts), whichever layer noticed:
 * - Node's parser (malformed request, headers too large, too slow): clientErrorHandler;
 * - Fastify's router (a malformed %-escape, a path part too long): frameworkErrors;
 * - a route or hook: the error handler;
 * - no route: the 404, answered before any body is read (an empty JSON body to a path that does
 *   not exist is a 404, not a 400);
 * - a CORS preflight without the headers one needs: 400;
 * - an HTTP/1.1 request without Host: 400 (Node's own check, which answers with no body, is off).
 * 5xx details go to the log, never to the client; no message echoes the query string.
 */
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config/schema.ts'
import {
  HeadersTooLargeError, HostMissingError, MalformedRequestError, NotFoundError, PreflightError, RequestTimeoutError, errorBody
} from '../../errors.ts'
import { redactUrl } from '../../logger.ts'
import { rawErrorAnswer } from '../server.ts'

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser rejected, as a JSON error, then the
 * connection closes. Once a connection has carried response bytes, nothing may be written to it
 * out of turn: on a stream's connection that would land in the middle of the stream. There the
 * bytes that failed to parse are dropped, as every later byte on a stream's connection is, and
 * the stream goes on (an idle keep-alive connection closes after keepAliveTimeout).
 */
export function clientErrorHandler (err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || socket.bytesWritten > 0) return
  const error = err.code === 'HPE_HEADER_OVERFLOW'
    ? new HeadersTooLargeError()
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? new RequestTimeoutError() : new MalformedRequestError()
  if (socket.writable) socket.write(rawErrorAnswer(error, STATUS_TEXT[error.statusCode] ?? ''))
  socket.destroy()
}

/** Fastify's `frameworkErrors`: errors the router raises before any route. The path is named, never the query. */
export function frameworkErrors (config: Readonly<Config>) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const { status, body } = errorBody({ code: err.code, statusCode: err.statusCode ?? 400, message: err.message }, config.server)
    const path = JSON.stringify(redactUrl(request.url.split('?')[0] ?? ''))
    const message = err.code === 'FST_ERR_BAD_URL' ? `The path ${path} has a malformed %-escape` : body.message
    reply.code(status).send({ code: body.code, message })
  }
}

export async function registerErrorHandling (app: FastifyInstance, config: Readonly<Config>): Promise<void> {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { status, body } = errorBody(err, config.server)
    if (status >= 500) request.log.error({ err }, 'request failed')
    return reply.code(status).send(body)
  })

  async function notFound (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const err = new NotFoundError(request.method, redactUrl(request.url.split('?')[0] ?? ''))
    reply.code(404)
    // A person following a link gets a page; API clients get JSON.
    if (request.headers.accept?.includes('text/html') === true) {
      return reply.view('not-found', { pageTitle: 'Not found · Ticker', message: 'There is nothing at this address.' })
    }
    return reply.send({ code: err.code, message: err.message })
  }
  app.setNotFoundHandler(notFound)

  // Before anything else runs on a request: a 404 needs no body, and a preflight without its
  // headers is a client error (@fastify/cors would answer it in plain text).
  app.addHook('onRequest', async (request, reply) => {
    if (request.raw.httpVersionMajor === 1 && request.raw.httpVersionMinor === 1 && request.headers.host === undefined) {
      throw new HostMissingError()
    }
    if (request.is404) return notFound(request, reply)
    if (request.method === 'OPTIONS' && (request.headers.origin === undefined || request.headers['access-control-request-method'] === undefined)) {
      throw new PreflightError()
    }
    return undefined
  })
}
