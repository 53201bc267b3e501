/**
 * The seam between the SSE hub and Node's HTTP internals: how a stream's bytes reach its socket.
 *
 * Two writers implement it (see index.ts for which one a process uses):
 * - `plain` (response-writer.ts): `res.writeHead` and `res.write` only, public API that a new Node
 *   major cannot break;
 * - `tuned` (socket-writer.ts): the same bytes, written as ready-made HTTP chunks straight to the
 *   socket, with less held per stream. It relies on Node and Fastify internals, so it is used only
 *   where it proved itself on the running Node (proof.ts).
 *
 * The same stream contract tests run against both.
 */
import type { ServerResponse } from 'node:http'

/** Called once the bytes of a write have left Node for the kernel, or the stream has failed. */
export type WriteDone = (err?: Error | null) => void

/** One open stream's output. */
export interface StreamOutput {
  readonly res: ServerResponse
  /**
   * Writes `bytes`. `chunk`, when given, is the same bytes framed as one HTTP chunk, built once for
   * many streams; a writer that frames chunks itself may send it instead.
   */
  write (bytes: Buffer, chunk?: Buffer, done?: WriteDone): void
  /** Bytes written but not yet taken by the kernel. */
  readonly queuedBytes: number
  /** Calls `listener` once, when bytes queued now have all been taken (only while some are queued). */
  onDrain (listener: () => void): void
}

export type WriterName = 'tuned' | 'plain'

export interface StreamWriter {
  readonly name: WriterName
  /** Sends the response head and `first` (in one write where Node allows), and returns the stream's output. */
  start (res: ServerResponse, status: number, headers: Readonly<Record<string, string | number | string[]>>, first: Buffer): StreamOutput
}
