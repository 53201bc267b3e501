/**
 * One open stream: where its bytes go, the topics it follows, and — while its replay is being
 * prepared — the live frames that arrived meanwhile.
 *
 * Kept small on purpose: there is one per open connection.
 */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { httpChunk } from './frame.ts'
import { releaseParser } from './parser.ts'

/** `json`: each event's payload. `html`: the rendered tile after each event (see http/views/tiles.ts). */
export type StreamFormat = 'json' | 'html'

export interface PendingFrame {
  readonly seq: number
  readonly frame: Buffer
}

export class Session {
  readonly res: ServerResponse
  readonly ip: string
  readonly topics: readonly string[]
  readonly format: StreamFormat
  /**
   * The socket, when frames may be written to it directly as ready-made HTTP chunks (a chunked
   * HTTP/1.1 response): the same chunk bytes go to every stream, and ServerResponse's per-write
   * framing is skipped. Null otherwise (such as HTTP/1.0); then frames go through `res.write`.
   */
  socket: Socket | null = null
  /** Live frames held back until the replay is written; undefined once live. */
  pending: PendingFrame[] | undefined = []
  pendingBytes = 0
  /** Live frames up to this seq were covered by the replay. */
  liveAfterSeq = 0
  closed = false

  constructor (res: ServerResponse, ip: string, topics: readonly string[], format: StreamFormat) {
    this.res = res
    this.ip = ip
    this.topics = topics
    this.format = format
  }

  /**
   * Sends the response head with the first frame (one write for both); from here on frames may go
   * straight to the socket.
   */
  start (status: number, headers: Record<string, string | number | string[]>, first: Buffer): void {
    this.res.writeHead(status, headers)
    this.res.write(first)
    // Node keeps the sent head as `_header`, built by appending field after field: a tree of
    // ~60 string pieces (≈2 KB) held for the life of the stream. The same text, flat, is ≈250 bytes.
    const head: unknown = Reflect.get(this.res, '_header')
    if (typeof head === 'string') Reflect.set(this.res, '_header', Buffer.from(head, 'latin1').toString('latin1'))
    const chunked = Reflect.get(this.res, 'chunkedEncoding') === true
    this.socket = chunked && this.res.socket !== null ? this.res.socket : null
    // No further request can be answered on this connection: its parser goes (see parser.ts).
    if (this.socket !== null) releaseParser(this.socket, this.res.req)
  }

  /** Whether the response head was sent (start() was called). */
  get started (): boolean {
    return this.res.headersSent
  }

  /** Writes one frame (or several, concatenated); `chunk` may pass its ready-made chunk. */
  write (frame: Buffer, chunk?: Buffer): void {
    if (this.socket !== null) this.socket.write(chunk ?? httpChunk(frame))
    else this.res.write(frame)
  }

  /** Bytes written but not yet taken by the peer (plus any held back during replay). */
  get queuedBytes (): number {
    // The response's count includes its socket's: bytes written to either are counted once.
    return this.res.writableLength + this.pendingBytes
  }
}
