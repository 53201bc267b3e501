/**
 * Many idle SSE streams over raw sockets: the cheapest client that still holds a real stream
 * open (headers read, bytes drained). For load where events must be parsed, see the load client.
 */
import { connect, type Socket } from 'node:net'

export interface StreamPool {
  readonly sockets: readonly Socket[]
  close (): Promise<void>
}

/** Opens `count` streams of `path` on `url`, `parallel` connects at a time; resolves when all have their headers. */
export async function openStreams (url: string, path: string, count: number, parallel = 200): Promise<StreamPool> {
  const { hostname, port } = new URL(url)
  const sockets: Socket[] = []
  const openOne = async (): Promise<void> => new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    socket.setNoDelay(true)
    let head = ''
    const onData = (d: Buffer): void => {
      head += d.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      socket.resume() // drain and discard from here on
      if (!head.startsWith('HTTP/1.1 200')) reject(new Error(`stream refused: ${head.split('\r\n')[0]}`))
      else resolve()
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`)
    sockets.push(socket)
  })
  for (let i = 0; i < count; i += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, openOne))
  }
  return {
    sockets,
    async close () {
      await Promise.all(sockets.map(async (s) => new Promise<void>((resolve) => {
        if (s.destroyed) resolve()
        else { s.once('close', () => resolve()); s.destroy() }
      })))
    }
  }
}
