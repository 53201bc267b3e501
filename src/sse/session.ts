/**
 * One open stream: a response to write frames to, the topics it follows, and — while its
 * replay is being prepared — the live frames that arrived meanwhile.
 *
 * Kept small on purpose: there is one per open connection.
 */
import type { ServerResponse } from 'node:http'

export interface PendingFrame {
  readonly seq: number
  readonly frame: Buffer
}

/** `json`: each event's payload. `html`: the rendered tile after each event (see http/views/tiles.ts). */
export type StreamFormat = 'json' | 'html'

export class Session {
  readonly res: ServerResponse
  readonly ip: string
  readonly topics: readonly string[]
  readonly format: StreamFormat
  /** Live frames held back until the replay is written; undefined once live. */
  pending: PendingFrame[] | undefined = []
  pendingBytes = 0
  closed = false

  constructor (res: ServerResponse, ip: string, topics: readonly string[], format: StreamFormat) {
    this.res = res
    this.ip = ip
    this.topics = topics
    this.format = format
  }

  /** Bytes written but not yet taken by the socket (plus any held back during replay). */
  get queuedBytes (): number {
    return this.res.writableLength + this.pendingBytes
  }
}
