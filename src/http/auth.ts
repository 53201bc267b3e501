/**
 * Tokens: the publish token (POST) and the subscriber token (private topics).
 * Compared in constant time; neither is ever logged (see the request serializer in app.ts).
 */
import { hash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'

const digest = (value: string): Buffer => hash('sha256', value, 'buffer')

/**
 * Digests of the configured tokens (publish, subscribe, metrics: a handful), made once: hashing
 * is most of a check's cost, and the publish check runs before every published event.
 */
const expectedDigests = new Map<string, Buffer>()

/** Constant-time string equality (hashing first makes the lengths equal). `expected` is a configured token. */
export function tokensEqual (given: string, expected: string): boolean {
  let wanted = expectedDigests.get(expected)
  if (wanted === undefined) expectedDigests.set(expected, wanted = digest(expected))
  return timingSafeEqual(digest(given), wanted)
}

/** The token of an `Authorization: Bearer <token>` header value, if it is one. */
export function bearerTokenOf (header: string | undefined): string | undefined {
  return header === undefined ? undefined : /^Bearer +(\S+) *$/i.exec(header)?.[1]
}

/** The token of a request's `Authorization: Bearer <token>` header, if there is one. */
export const bearerToken = (request: FastifyRequest): string | undefined => bearerTokenOf(request.headers.authorization)

/** The subscriber token a request offers: a Bearer header, or `?access_token=` (EventSource cannot set headers). */
export function offeredSubscribeToken (request: FastifyRequest): string | undefined {
  const fromHeader = bearerToken(request)
  if (fromHeader !== undefined) return fromHeader
  const query = request.query as Record<string, unknown> | undefined
  const fromQuery = query?.access_token
  return typeof fromQuery === 'string' ? fromQuery : undefined
}

/** Whether a request may read private topics. */
export function canReadPrivate (request: FastifyRequest, subscribeToken: string): boolean {
  if (subscribeToken === '') return false
  const offered = offeredSubscribeToken(request)
  return offered !== undefined && tokensEqual(offered, subscribeToken)
}
