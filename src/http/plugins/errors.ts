/**
 * Every way a request can fail answers `{code, message}` (errors.ts), whichever layer noticed:
 * - Node's parser (malformed request, headers too large, too slow): clientErrorHandler;
 * - Fastify's router (a malformed %-escape, a path part too long): frameworkErrors;
 * - a route or hook: the error handler;
 * - no route: the 404, answered before any body is read (an empty JSON body to a path that does
 *   not exist is a 404, not a 400);
 * - a CORS preflight without the headers one needs: 400;
 * - an HTTP/1.1 request without Host: 400 (Node's own check, which answers with no body, is off).
 * A person's browser (GET, Accept: text/html) gets the same as a page; a 503 says when to retry.
 * Unexpected failures go to the log, never to the client; no message echoes the query string.
 */
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config/schema.ts'
import {
  HeadersTooLargeError, HostMissingError, InternalError, MalformedRequestError, NotFoundError, PreflightError, RequestTimeoutError, errorBody
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

/** How long a client should wait after a 503 (Retry-After); a page saying so reloads itself then. */
const RETRY_AFTER_SECONDS = 5
const INTERNAL = new InternalError().code

/** A person following a link gets a page; API clients (and EventSource) get JSON. */
const wantsPage = (request: FastifyRequest): boolean =>
  (request.method === 'GET' || request.method === 'HEAD') && request.headers.accept?.includes('text/html') === true

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
  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    const { status, body } = errorBody(err, config.server)
    // Only what we did not expect is logged here: an expected 5xx (Redis out of reach, the
    // server full or stopping) is a state the process logs once when it changes.
    if (body.code === INTERNAL) request.log.error({ err }, 'request failed')
    reply.code(status)
    if (status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS))
    if (wantsPage(request)) {
      const heading = status === 503 ? 'Unavailable for now' : status < 500 ? 'Cannot show this page' : 'Something went wrong'
      return reply.view('error', {
        pageTitle: `${heading} · Ticker`,
        heading,
        message: body.message,
        ...(status === 503 ? { refreshSeconds: RETRY_AFTER_SECONDS } : {})
      })
    }
    return reply.send(body)
  })

  async function notFound (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const err = new NotFoundError(request.method, redactUrl(request.url.split('?')[0] ?? ''))
    reply.code(404)
    if (wantsPage(request)) {
      return reply.view('error', { pageTitle: 'Not found · Ticker', heading: 'Not found', message: 'There is nothing at this address.' })
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
