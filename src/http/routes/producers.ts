/** GET /producers: each producer's schedule and state (last run, last success, last error, next run). */
import type { FastifyInstance } from 'fastify'
import type { RouteDeps } from '../types.ts'

export default async function producerRoutes (app: FastifyInstance, { scheduler, access }: RouteDeps): Promise<void> {
  app.addHook('onRequest', access.resolve)
  app.get('/producers', async (request) => {
    const readable = new Set(await access.readableTopics(request))
    // A producer of private topics is listed only to those who may read them.
    const producers = scheduler.state().filter((p) => p.topics.every((t) => readable.has(t) || !access.isPrivate(t)))
    return { producers }
  })
}
