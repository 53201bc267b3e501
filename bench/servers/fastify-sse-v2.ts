/**
 * Baseline: fastify-sse-v2, the Fastify SSE plugin: each stream a reply fed through reply.sse(),
 * each publish pushed to every reply.
 *
 *     PORT=0 npx tsx bench/servers/fastify-sse-v2.ts
 */
import Fastify, { type FastifyReply } from 'fastify'
import { FastifySSEPlugin } from 'fastify-sse-v2'

const app = Fastify({ logger: false })
await app.register(FastifySSEPlugin)
const replies = new Set<FastifyReply>()
let id = 0

app.get('/stream', (request, reply) => {
  replies.add(reply)
  request.raw.on('close', () => replies.delete(reply))
  reply.sse({ retry: 2000 })
})

app.post('/publish', async (request) => {
  id++
  const data = JSON.stringify(request.body)
  for (const reply of replies) reply.sse({ id: String(id), event: 'bench', data })
  return { id }
})

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
console.log(`listening ${address}`)
process.on('SIGTERM', () => process.exit(0))
