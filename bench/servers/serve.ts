/**
 * How a plain node:http baseline starts: on PORT (0: any free port) on loopback, announcing
 * "listening <url>" for bench/lib/processes.ts, and ending on SIGTERM.
 */
import type { Server } from 'node:http'

export function serve (server: Server): void {
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    const address = server.address()
    if (address !== null && typeof address === 'object') console.log(`listening http://127.0.0.1:${address.port}`)
  })
  process.on('SIGTERM', () => process.exit(0))
}
