/**
 * Admission: whether a new stream may open, and the counts that decide it.
 *
 * - At most `maxConnections` streams, and `maxConnectionsPerIp` from one client address.
 * - While the hub closes, none.
 * - A stream exists only on a live connection whose response is first in line: a request whose
 *   socket is gone (the client left while it was routed) or whose response waits behind another
 *   on its connection (pipelining) never becomes a stream. Every admitted stream's end is tied
 *   to its socket's `close` (hub.ts), so no session outlives its connection.
 */
import type { ServerResponse } from 'node:http'

/** Why a new stream cannot open. */
export type Refusal = 'closing' | 'total' | 'per-ip'

export interface AdmissionLimits {
  readonly maxConnections: number
  readonly maxConnectionsPerIp: number
}

/** Whether `res` can carry a stream now: its connection is live and the response is first in line on it. */
export function canCarryStream (res: ServerResponse): boolean {
  const socket = res.socket
  return socket !== null && !socket.destroyed && socket.writable && !res.headersSent
}

export class Admission {
  readonly #limits: AdmissionLimits
  /** Open streams per client address; an address leaves the map with its last stream. */
  readonly #perIp = new Map<string, number>()
  readonly #refused: Record<Refusal, number> = { closing: 0, total: 0, 'per-ip': 0 }
  #closing = false

  constructor (limits: AdmissionLimits) {
    this.#limits = limits
  }

  get closing (): boolean { return this.#closing }

  /** Why a stream from `ip` may not open now that `open` are, counting the refusal; undefined when it may. */
  refusal (ip: string, open: number): Refusal | undefined {
    const refusal = this.#closing
      ? 'closing'
      : open >= this.#limits.maxConnections
        ? 'total'
        : (this.#perIp.get(ip) ?? 0) >= this.#limits.maxConnectionsPerIp ? 'per-ip' : undefined
    if (refusal !== undefined) this.#refused[refusal]++
    return refusal
  }

  /** Counts a stream of `ip` in; each must be counted out once with leave(). */
  enter (ip: string): void {
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1)
  }

  leave (ip: string): void {
    const count = (this.#perIp.get(ip) ?? 1) - 1
    if (count === 0) this.#perIp.delete(ip)
    else this.#perIp.set(ip, count)
  }

  /** From now on every stream is refused as 'closing'. */
  close (): void {
    this.#closing = true
  }

  /** Streams refused since start, by reason. */
  refusedCounts (): Readonly<Record<Refusal, number>> {
    return { ...this.#refused }
  }
}
