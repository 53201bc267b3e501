/**
 * The tuned writer: once the response head is on the socket, frames go straight to the socket as
 * ready-made HTTP chunks (the same chunk bytes for every stream of a group, no per-write framing
 * by ServerResponse), and the connection gives up what a never-ending response does not need.
 *
 * Every Node or Fastify internal that streaming relies on lives here (and in parser.ts), each
 * guarded so that a Node that changed it costs memory, not correctness:
 * - `res.chunkedEncoding`: whether Node frames this response as chunks (HTTP/1.1 without a
 *   length); only then may hand-made chunks follow it. Otherwise every write goes through res.
 * - the order of bytes: a direct socket write must come after everything the response itself
 *   still holds. Node 24 keeps the head and the first writes in the response's own queue until
 *   the end of the tick (a socket write made meanwhile would go out before the status line), so
 *   writes go through `res.write` until the callbacks of all of those have fired, and only then
 *   to the socket. proof.ts checks the bytes on the wire at startup.
 * - `res._header`: the sent head, which Node builds as a tree of string pieces; kept flat.
 * - Fastify's `onResFinished` listener, which would hold the reply, request and child logger for
 *   the stream's life; streams are accounted for by the hub instead.
 * - the request parser, released once the head is sent (parser.ts).
 */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { httpChunk } from '../frame.ts'
import { releaseParser } from './parser.ts'
import type { StreamOutput, StreamWriter, WriteDone } from './types.ts'

class SocketChunkOutput implements StreamOutput {
  readonly res: ServerResponse
  /** The connection, once frames may go to it directly; null until then (or for good, when the response is not chunked). */
  #socket: Socket | null = null
  /** Writes made through res whose bytes have not reached the socket yet; -1 once settled for good without direct writes. */
  #inResponse = 0

  constructor (res: ServerResponse) {
    this.res = res
  }

  write (bytes: Buffer, chunk?: Buffer, done?: WriteDone): void {
    if (this.#socket !== null) {
      this.#socket.write(chunk ?? httpChunk(bytes), done)
    } else if (this.#inResponse < 0) {
      this.res.write(bytes, done)
    } else {
      this.#inResponse++
      this.res.write(bytes, (err) => {
        if (--this.#inResponse === 0 && err == null) this.#settle()
        done?.(err)
      })
    }
  }

  onDrain (listener: () => void): void {
    // Queued bytes are in the socket once writes go there, else in the response.
    const queue = this.#socket ?? this.res
    if (queue.writableNeedDrain) queue.once('drain', listener)
    else setImmediate(listener) // under the stream's high-water mark: no 'drain' will come
  }

  get queuedBytes (): number {
    // The response's count includes its socket's (checked on every supported Node by the tests).
    return this.res.writableLength
  }

  /**
   * Everything the response held has reached the socket: no further request can be answered on
   * this connection, so its parser goes, and a chunked response's later bytes may be written to
   * the socket directly (any other keeps writing through res).
   */
  #settle (): void {
    const socket = this.res.socket
    if (socket === null || socket.destroyed) return
    releaseParser(socket, this.res.req)
    // Only a chunked response may be followed by hand-made chunks.
    if (Reflect.get(this.res, 'chunkedEncoding') === true) this.#socket = socket
    else this.#inResponse = -1
  }
}

/** Node's sent head is a tree of ~60 string pieces (≈2 KB) held for the stream's life; the same text, flat, is ≈250 bytes. */
function flattenSentHead (res: ServerResponse): void {
  const head: unknown = Reflect.get(res, '_header')
  if (typeof head === 'string') Reflect.set(res, '_header', Buffer.from(head, 'latin1').toString('latin1'))
}

/** Drops Fastify's completion listener from a hijacked response; if Fastify renamed it, nothing is removed. */
function releaseFastifyListeners (res: ServerResponse): void {
  for (const event of ['finish', 'error'] as const) {
    for (const listener of res.listeners(event)) {
      if ((listener as { name?: string }).name === 'onResFinished') res.removeListener(event, listener as (...args: unknown[]) => void)
    }
  }
}

export const socketChunkWriter: StreamWriter = {
  name: 'tuned',
  start (res, status, headers, first) {
    res.writeHead(status, headers)
    flattenSentHead(res)
    releaseFastifyListeners(res)
    const output = new SocketChunkOutput(res)
    output.write(first)
    return output
  }
}
