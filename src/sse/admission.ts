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
import type { Socket } from 'node:net'

/** Why a new stream cannot open. */
export type Refusal = 'closing' | 'total' | 'per-ip'

export interface AdmissionLimits {
  readonly maxConnections: number
  readonly maxConnectionsPerIp: number
}

/** The connection a stream on `res` would live on, when it can carry one now. */
export function streamSocket (res: ServerResponse): Socket | undefined {
  const socket = res.socket
  return socket !== null && !socket.destroyed && socket.writable && !res.headersSent ? socket : undefined
}

export class Admission {
  readonly #limits: AdmissionLimits
  /** Open streams per client address; an address leaves the map with its last stream. */
  readonly #perIp = new Map<string, number>()
  readonly #refused: Record<Refusal, number> = { closing: 0, total: 0, 'per-ip': 0 }
  #open = 0
  #closing = false

  constructor (limits: AdmissionLimits) {
    this.#limits = limits
  }

  /** Open streams now. */
  get size (): number { return this.#open }

  get closing (): boolean { return this.#closing }

  /** Why a stream from `ip` may not open now, counting the refusal; undefined when it may. */
  refusal (ip: string): Refusal | undefined {
    const refusal = this.#closing
      ? 'closing'
      : this.#open >= this.#limits.maxConnections
        ? 'total'
        : (this.#perIp.get(ip) ?? 0) >= this.#limits.maxConnectionsPerIp ? 'per-ip' : undefined
    if (refusal !== undefined) this.#refused[refusal]++
    return refusal
  }

  /** Counts a stream of `ip` in; each must be counted out once with leave(). */
  enter (ip: string): void {
    this.#open++
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1)
  }

  leave (ip: string): void {
    this.#open--
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
