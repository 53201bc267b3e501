/**
 * GET /metrics for Prometheus: on the main listener, or on a listener of its own
 * (`metrics.separate`), optionally behind a bearer token.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { Config } from '../../config/schema.ts'
import { UnauthorizedError } from '../../errors.ts'
import { tokensEqual } from '../auth.ts'

const TOKEN_HINT = 'Scraping needs "Authorization: Bearer <metrics token>" (metrics.token)'

function authorized (header: string | undefined, token: string): boolean {
  if (token === '') return true
  const offered = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1]
  return offered !== undefined && tokensEqual(offered, token)
}

/** The route on the main app. */
export async function metricsRoute (app: FastifyInstance, { registry, config }: { registry: Registry, config: Readonly<Config> }): Promise<void> {
  app.get('/metrics', async (request, reply) => {
    if (!authorized(request.headers.authorization, config.metrics.token)) throw new UnauthorizedError(TOKEN_HINT)
    reply.header('content-type', registry.contentType)
    return registry.metrics()
  })
}

/** A bare listener serving only /metrics; the caller listens and closes it. */
export function metricsServer (registry: Registry, token: string): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ code: 'TICKER_ERR_NOT_FOUND', message: 'Only GET /metrics is served here' }))
      return
    }
    if (!authorized(req.headers.authorization, token)) {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ code: 'TICKER_ERR_UNAUTHORIZED', message: TOKEN_HINT }))
      return
    }
    registry.metrics().then((text) => {
      res.writeHead(200, { 'content-type': registry.contentType })
      res.end(text)
    }, (err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ code: 'TICKER_ERR_INTERNAL', message: `metrics failed: ${(err as Error).message}` }))
    })
  })
}
