/**
 * Reference, not a peer: the least a Node server can do to fan an event out. A bare node:http
 * server; each publish is encoded once as one HTTP chunk and written to every socket in a loop.
 * No framework, no replay, no limits, no backpressure, no heartbeat. What separates Ticker from
 * it is the price of Ticker's features; what separates it from nchan is Node's.
 *
 *     PORT=0 npx tsx bench/servers/node-floor.ts
 */
import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import { serve } from './serve.ts'

const sockets = new Set<Socket>()
let id = 0

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stream') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    res.write('retry: 2000\n\n') // also sends the head; from here the socket carries raw chunks
    const socket = res.socket
    if (socket === null) return
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    return
  }
  if (req.method === 'POST' && req.url === '/publish') {
    const parts: Buffer[] = []
    req.on('data', (d: Buffer) => parts.push(d))
    req.on('end', () => {
      id++
      const frame = Buffer.from(`id: ${id}\nevent: bench\ndata: ${Buffer.concat(parts).toString()}\n\n`)
      const chunk = Buffer.concat([Buffer.from(`${frame.length.toString(16)}\r\n`), frame, Buffer.from('\r\n')])
      for (const socket of sockets) socket.write(chunk)
      res.writeHead(201, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id }))
    })
    return
  }
  res.writeHead(404)
  res.end()
})

serve(server)
