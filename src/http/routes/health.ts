/** Liveness and readiness probes. */
import type { FastifyInstance } from 'fastify'
import type { RouteDeps } from '../types.ts'

export default async function healthRoutes (app: FastifyInstance, { bus, hub, scheduler }: RouteDeps): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (_request, reply) => {
    const checks = {
      bus: await bus.topics().then(() => 'ok', (err: Error) => `failing: ${err.message}`),
      sse: hub.closing ? 'shutting down' : 'ok',
      producers: scheduler.started ? 'ok' : 'not scheduled'
    }
    const ready = Object.values(checks).every((c) => c === 'ok')
    reply.code(ready ? 200 : 503)
    return { ready, checks }
  })
}
