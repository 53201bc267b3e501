/**
 * Baseline: the naive Fastify SSE route blog posts show. A clients array, and on every publish
 * JSON.stringify + res.write for each client. No replay, no limits, no backpressure.
 *
 *     PORT=0 npx tsx bench/servers/naive-fastify.ts
 */
import Fastify from 'fastify'
import type { ServerResponse } from 'node:http'

const app = Fastify({ logger: false })
const clients: ServerResponse[] = []
let id = 0

app.get('/stream', (request, reply) => {
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
  reply.raw.write('retry: 2000\n\n')
  clients.push(reply.raw)
  request.raw.on('close', () => {
    const i = clients.indexOf(reply.raw)
    if (i !== -1) clients.splice(i, 1)
  })
})

app.post('/publish', async (request) => {
  id++
  for (const res of clients) res.write(`id: ${id}\nevent: bench\ndata: ${JSON.stringify(request.body)}\n\n`)
  return { id }
})

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
console.log(`listening ${address}`)
process.on('SIGTERM', () => process.exit(0))
