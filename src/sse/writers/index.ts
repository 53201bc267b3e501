/**
 * Which stream writer a process uses: the tuned one where it proves itself on the running Node,
 * else the plain one (see types.ts). The proof runs once per process.
 */
import type { FastifyBaseLogger } from 'fastify'
import { proveWriter } from './proof.ts'
import { responseWriter } from './response-writer.ts'
import { socketChunkWriter } from './socket-writer.ts'
import type { StreamWriter } from './types.ts'

/** `auto`: the tuned writer when its self-test passes on this Node, else the plain one. */
export type WriterMode = 'auto' | 'plain'

const proofs = new WeakMap<StreamWriter, Promise<string | undefined>>()

/** The writer for `mode`; `tuned` is the candidate that must pass its proof (once per process). */
export async function selectWriter (mode: WriterMode, log: FastifyBaseLogger, tuned: StreamWriter = socketChunkWriter): Promise<StreamWriter> {
  if (mode === 'plain') return responseWriter
  let proof = proofs.get(tuned)
  if (proof === undefined) proofs.set(tuned, proof = proveWriter(tuned))
  const failure = await proof
  if (failure === undefined) return tuned
  log.warn({ node: process.version, reason: failure },
    'the tuned stream writer failed its self-test on this Node; streams use the plain writer (same behaviour, more memory per stream)')
  return responseWriter
}

export { proveWriter } from './proof.ts'
export { responseWriter } from './response-writer.ts'
export { socketChunkWriter } from './socket-writer.ts'
export type { StreamOutput, StreamWriter, WriteDone, WriterName } from './types.ts'
