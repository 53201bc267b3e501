/**
 * Baseline: better-sse (a TypeScript SSE library) behind a plain Node HTTP server: one channel,
 * every stream a session registered on it, each publish a channel.broadcast.
 *
 *     PORT=0 npx tsx bench/servers/better-sse.ts
 */
import { createServer } from 'node:http'
import { createChannel, createSession } from 'better-sse'
import { serve } from './serve.ts'

const channel = createChannel()
let id = 0

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stream') {
    createSession(req, res, { keepAlive: 15_000 }).then((session) => channel.register(session), () => res.destroy())
    return
  }
  if (req.method === 'POST' && req.url === '/publish') {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (d: string) => { body += d })
    req.on('end', () => {
      id++
      channel.broadcast(JSON.parse(body) as unknown, 'bench', { eventId: String(id) })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id }))
    })
    return
  }
  res.writeHead(404)
  res.end()
})

serve(server)
