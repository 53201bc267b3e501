/**
 * GET /metrics for Prometheus: on the main listener, or on a listener of its own
 * (`metrics.separate`), optionally behind a bearer token.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { Config } from '../../config/schema.ts'
import { MetricsOnlyError, MetricsTokenError, errorBody } from '../../errors.ts'
import { bearerTokenOf, tokensEqual } from '../auth.ts'

function authorized (header: string | undefined, token: string): boolean {
  if (token === '') return true
  const offered = bearerTokenOf(header)
  return offered !== undefined && tokensEqual(offered, token)
}

/** The route on the main app. */
export async function metricsRoute (app: FastifyInstance, { registry, config }: { registry: Registry, config: Readonly<Config> }): Promise<void> {
  app.get('/metrics', async (request, reply) => {
    if (!authorized(request.headers.authorization, config.metrics.token)) throw new MetricsTokenError()
    reply.header('content-type', registry.contentType)
    return registry.metrics()
  })
}

/** A bare listener serving only /metrics; the caller listens and closes it. */
export function metricsServer (registry: Registry, config: Readonly<Config>, onError: (err: unknown) => void): Server {
  const fail = (res: ServerResponse, err: Error): void => {
    const { status, body } = errorBody(err, config.server)
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
    res.end(JSON.stringify(body))
  }
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]
    if (req.method !== 'GET' || path !== '/metrics') return fail(res, new MetricsOnlyError())
    if (!authorized(req.headers.authorization, config.metrics.token)) return fail(res, new MetricsTokenError())
    registry.metrics().then((text) => {
      res.writeHead(200, { 'content-type': registry.contentType })
      res.end(text)
    }, (err: unknown) => {
      onError(err)
      fail(res, err as Error)
    })
  })
}
