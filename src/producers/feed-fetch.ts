/**
 * Polite feed fetching: conditional GET, a User-Agent, a timeout, a byte cap and a redirect
 * limit. Every failure is a FeedFetchError whose message a person can act on.
 */

export interface FetchOptions {
  readonly etag?: string
  readonly lastModified?: string
  readonly timeoutMs: number
  readonly maxBytes: number
  readonly maxRedirects: number
  readonly userAgent: string
  /** Aborts the fetch (the run was cut off, or the service stops). */
  readonly signal: AbortSignal
}

export type FetchResult =
  | { readonly kind: 'not-modified', readonly status: 304 }
  | { readonly kind: 'ok', readonly status: number, readonly body: string, readonly contentType: string, readonly etag?: string, readonly lastModified?: string, readonly url: string }

export class FeedFetchError extends Error {
  /** A failure of the network or of the feed's server, not of Ticker: logged without a stack. */
  readonly expected = true
  /** HTTP status, when the server answered. */
  readonly status: number | undefined
  /** From Retry-After on 429/503, in ms. */
  readonly retryAfterMs: number | undefined
  constructor (message: string, status?: number, retryAfterMs?: number) {
    super(message)
    this.name = 'FeedFetchError'
    this.status = status
    this.retryAfterMs = retryAfterMs
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

/** Retry-After as ms from `nowMs`: delta-seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter (value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs)
}

function describeNetworkError (err: unknown, timeoutMs: number, signal: AbortSignal, timeout: AbortSignal): string {
  if (timeout.aborted && !signal.aborted) return `no answer within ${timeoutMs} ms`
  if (signal.aborted) return 'the poll was cancelled'
  const cause = (err as { cause?: { code?: string, message?: string } }).cause
  switch (cause?.code) {
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'cannot resolve the host name'
    case 'ECONNREFUSED': return 'connection refused'
    case 'ECONNRESET': case 'UND_ERR_SOCKET': return 'connection reset by the server'
    case 'ETIMEDOUT': case 'UND_ERR_CONNECT_TIMEOUT': return 'connection timed out'
    default: return cause?.message ?? (err as Error).message
  }
}

async function readCapped (response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'))
  if (declared > maxBytes) {
    await response.body?.cancel()
    throw new FeedFetchError(`the feed is ${declared} bytes, over the limit of ${maxBytes}`, response.status)
  }
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = response.body?.getReader()
  if (reader === undefined) return new Uint8Array()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      throw new FeedFetchError(`the feed is over the limit of ${maxBytes} bytes`, response.status)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}

function decode (bytes: Uint8Array, contentType: string): string {
  const charset = /charset="?([\w-]+)"?/i.exec(contentType)?.[1]
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes)
  } catch {
    return new TextDecoder('utf-8').decode(bytes)
  }
}

export async function fetchFeed (url: string, options: FetchOptions): Promise<FetchResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs)
  const signal = AbortSignal.any([options.signal, timeout])
  const headers: Record<string, string> = {
    'user-agent': options.userAgent,
    accept: 'application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5'
  }
  if (options.etag !== undefined) headers['if-none-match'] = options.etag
  if (options.lastModified !== undefined) headers['if-modified-since'] = options.lastModified

  let current = url
  for (let redirects = 0; ; redirects++) {
    let response: Response
    try {
      response = await fetch(current, { headers, redirect: 'manual', signal })
    } catch (err) {
      throw new FeedFetchError(describeNetworkError(err, options.timeoutMs, options.signal, timeout))
    }
    if (REDIRECTS.has(response.status)) {
      await response.body?.cancel()
      const location = response.headers.get('location')
      if (location === null) throw new FeedFetchError(`redirect (${response.status}) without a Location header`, response.status)
      if (redirects >= options.maxRedirects) throw new FeedFetchError(`more than ${options.maxRedirects} redirects`, response.status)
      const next = new URL(location, current)
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new FeedFetchError(`redirect to a non-HTTP URL (${next.protocol})`, response.status)
      current = next.href
      continue
    }
    if (response.status === 304) {
      await response.body?.cancel()
      return { kind: 'not-modified', status: 304 }
    }
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel()
      const retryAfterMs = response.status === 429 || response.status === 503
        ? parseRetryAfter(response.headers.get('retry-after'), Date.now())
        : undefined
      throw new FeedFetchError(`the server answered HTTP ${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}`, response.status, retryAfterMs)
    }
    let bytes: Uint8Array
    try {
      bytes = await readCapped(response, options.maxBytes)
    } catch (err) {
      if (err instanceof FeedFetchError) throw err
      throw new FeedFetchError(`reading the feed failed: ${describeNetworkError(err, options.timeoutMs, options.signal, timeout)}`, response.status)
    }
    const contentType = response.headers.get('content-type') ?? ''
    return {
      kind: 'ok',
      status: response.status,
      body: decode(bytes, contentType),
      contentType,
      url: current,
      ...optional('etag', response.headers.get('etag')),
      ...optional('lastModified', response.headers.get('last-modified'))
    }
  }
}

const optional = <K extends string>(key: K, value: string | null): { [P in K]?: string } =>
  (value === null ? {} : { [key]: value }) as { [P in K]?: string }
