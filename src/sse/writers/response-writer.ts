/**
 * The plain writer: `res.writeHead` and `res.write`, nothing else. Node frames each write as an
 * HTTP chunk and keeps its parser and response bookkeeping for the connection; that costs memory
 * per stream (docs/BENCHMARKS.md), never correctness.
 */
import type { ServerResponse } from 'node:http'
import type { StreamOutput, StreamWriter, WriteDone } from './types.ts'

class ResponseOutput implements StreamOutput {
  readonly res: ServerResponse

  constructor (res: ServerResponse) {
    this.res = res
  }

  write (bytes: Buffer, _chunk?: Buffer, done?: WriteDone): void {
    this.res.write(bytes, done)
  }

  onDrain (listener: () => void): void {
    if (this.res.writableNeedDrain) this.res.once('drain', listener)
    else setImmediate(listener) // under the stream's high-water mark: no 'drain' will come
  }

  get queuedBytes (): number {
    // The response's count includes its socket's (checked on every supported Node by the tests).
    return this.res.writableLength
  }
}

export const responseWriter: StreamWriter = {
  name: 'plain',
  start (res, status, headers, first) {
    res.writeHead(status, headers)
    const output = new ResponseOutput(res)
    output.write(first)
    return output
  }
}
