/**
 * feed: polls one RSS/Atom/RDF/JSON feed and publishes each new item once, plus the feed's
 * status (ok, or error and why) so a dashboard can show a broken feed instead of a silent tile.
 *
 * Item event (topic):            { feed, source, title, link, published, summary }
 * Status event (<topic>.status): { feed, state: 'ok' | 'error', reason, httpStatus,
 *                                  lastSuccessAt, consecutiveFailures, nextAttemptAt, itemsPublished }
 */
import { fetchFeed, FeedFetchError } from './feed-fetch.ts'
import { parseFeedItems, type FeedItem } from './feed-items.ts'
import type { Producer, ProducerContext } from './types.ts'

export interface FeedOptions {
  readonly name: string
  readonly url: string
  readonly topic: string
  readonly statusTopic: string
  readonly schedule: string
  readonly timeoutMs: number
  readonly maxBytes: number
  readonly maxRedirects: number
  readonly firstPollItems: number
  readonly summaryMaxChars: number
  readonly seenLimit: number
  readonly backoffBaseMs: number
  readonly backoffMaxMs: number
  readonly userAgent: string
  /** 0..1 → jitter factor; injectable for tests. Defaults to Math.random. */
  readonly random?: () => number
}

export interface FeedItemEvent {
  readonly feed: string
  readonly source: string
  readonly title: string
  readonly link: string | null
  readonly published: string | null
  readonly summary: string
}

export interface FeedStatusEvent {
  readonly feed: string
  readonly url: string
  readonly state: 'ok' | 'error'
  readonly reason: string | null
  readonly httpStatus: number | null
  readonly checkedAt: string
  readonly lastSuccessAt: string | null
  readonly consecutiveFailures: number
  readonly nextAttemptAt: string | null
  readonly itemsPublished: number
}

/** Delay before the next attempt after `failures` consecutive failures: base·2^(n-1), ±50 % jitter, capped. */
export function backoffMs (failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(30, failures - 1))
  return Math.round(Math.min(maxMs, exponential * (0.5 + random())))
}

/** Remembers keys in insertion order, forgetting the oldest past `limit`. */
class SeenSet {
  readonly #keys = new Set<string>()
  readonly #limit: number
  constructor (limit: number, keys: readonly string[] = []) {
    this.#limit = limit
    for (const key of keys) this.add(key)
  }

  has (key: string): boolean { return this.#keys.has(key) }
  /** Oldest first. */
  keys (): string[] { return [...this.#keys] }
  add (key: string): void {
    this.#keys.delete(key)
    this.#keys.add(key)
    if (this.#keys.size > this.#limit) {
      const oldest = this.#keys.values().next().value
      if (oldest !== undefined) this.#keys.delete(oldest)
    }
  }
}

const byDateAscending = (a: FeedItem, b: FeedItem): number =>
  (a.published ?? '').localeCompare(b.published ?? '')

/** What a feed remembers between polls, as stored for the next run (on whichever instance). */
interface StoredFeedState {
  readonly url: string
  readonly seen: string[]
  readonly firstPoll: boolean
  readonly etag?: string
  readonly lastModified?: string
  readonly failures: number
  readonly nextAttemptAt: number
  readonly lastSuccessAt?: number
}

const isStoredFeedState = (value: unknown): value is StoredFeedState =>
  typeof value === 'object' && value !== null && Array.isArray((value as StoredFeedState).seen) &&
  typeof (value as StoredFeedState).failures === 'number' && typeof (value as StoredFeedState).nextAttemptAt === 'number'

export function createFeedProducer (options: FeedOptions): Producer {
  const random = options.random ?? Math.random
  let seen = new SeenSet(options.seenLimit)
  let firstPoll = true
  let etag: string | undefined
  let lastModified: string | undefined
  let failures = 0
  let nextAttemptAt = 0
  let lastSuccessAt: number | undefined

  /**
   * New items, oldest first; on the first poll only the newest `firstPollItems`, the others
   * remembered as seen at once. Those returned are remembered once published (see poll).
   */
  function selectNew (items: readonly FeedItem[]): FeedItem[] {
    const unique = new Map<string, FeedItem>() // the first of items sharing a key wins
    for (const item of items) if (!seen.has(item.key) && !unique.has(item.key)) unique.set(item.key, item)
    // Feeds list newest first; keep that order for undated items and sort the rest by date.
    const chronological = [...unique.values()].reverse().sort(byDateAscending)
    if (!firstPoll) return chronological
    const skipped = chronological.slice(0, -options.firstPollItems)
    for (const item of skipped) seen.add(item.key)
    return chronological.slice(-options.firstPollItems)
  }

  async function publishStatus (ctx: ProducerContext, checkedAt: number, state: Omit<FeedStatusEvent, 'feed' | 'url' | 'checkedAt' | 'lastSuccessAt' | 'consecutiveFailures' | 'nextAttemptAt'>): Promise<void> {
    const status: FeedStatusEvent = {
      feed: options.name,
      url: options.url,
      ...state,
      checkedAt: new Date(checkedAt).toISOString(),
      lastSuccessAt: lastSuccessAt === undefined ? null : new Date(lastSuccessAt).toISOString(),
      consecutiveFailures: failures,
      nextAttemptAt: failures === 0 ? null : new Date(nextAttemptAt).toISOString()
    }
    await ctx.publish(options.statusTopic, status)
  }

  async function poll (ctx: ProducerContext): Promise<void> {
    const result = await fetchFeed(options.url, {
      ...(etag === undefined ? {} : { etag }),
      ...(lastModified === undefined ? {} : { lastModified }),
      timeoutMs: options.timeoutMs,
      maxBytes: options.maxBytes,
      maxRedirects: options.maxRedirects,
      userAgent: options.userAgent,
      signal: ctx.signal
    })
    let published = 0
    if (result.kind === 'ok') {
      const feed = parseFeedItems(result.body, result.url, options.summaryMaxChars)
      for (const item of selectNew(feed.items)) {
        const event: FeedItemEvent = { feed: options.name, source: feed.title, title: item.title, link: item.link, published: item.published, summary: item.summary }
        await ctx.publish(options.topic, event)
        // Remembered (and stored for whichever instance polls next) only once published: a
        // publish that fails leaves the item for the next poll; one whose runner dies right
        // after is the most that can go out twice.
        seen.add(item.key)
        await ctx.state.save(snapshot())
        published++
      }
      firstPoll = false
      etag = result.etag
      lastModified = result.lastModified
    }
    failures = 0
    lastSuccessAt = ctx.now()
    await publishStatus(ctx, lastSuccessAt, { state: 'ok', reason: null, httpStatus: result.status, itemsPublished: published })
  }

  /** Takes over what the last run (here or on another instance) stored, if it polled this URL. */
  function restore (stored: unknown): void {
    if (!isStoredFeedState(stored) || stored.url !== options.url) return
    seen = new SeenSet(options.seenLimit, stored.seen)
    firstPoll = stored.firstPoll
    etag = stored.etag
    lastModified = stored.lastModified
    failures = stored.failures
    nextAttemptAt = stored.nextAttemptAt
    lastSuccessAt = stored.lastSuccessAt
  }

  const snapshot = (): StoredFeedState => ({
    url: options.url,
    seen: seen.keys(),
    firstPoll,
    ...(etag === undefined ? {} : { etag }),
    ...(lastModified === undefined ? {} : { lastModified }),
    failures,
    nextAttemptAt,
    ...(lastSuccessAt === undefined ? {} : { lastSuccessAt })
  })

  return {
    name: `feed:${options.name}`,
    schedule: options.schedule,
    timeoutMs: options.timeoutMs + 1000, // the fetch times itself out first, with a clearer message
    topics: [options.topic, options.statusTopic],
    async run (ctx) {
      restore(await ctx.state.load())
      if (ctx.now() < nextAttemptAt) return // backing off after failures
      try {
        await poll(ctx)
        await ctx.state.save(snapshot())
      } catch (err) {
        if (ctx.signal.aborted) throw err // cut off or stopping: nothing to report
        failures++
        const failedAt = ctx.now()
        const retryAfterMs = err instanceof FeedFetchError ? err.retryAfterMs : undefined
        nextAttemptAt = failedAt + Math.max(backoffMs(failures, options.backoffBaseMs, options.backoffMaxMs, random), retryAfterMs ?? 0)
        await ctx.state.save(snapshot())
        await publishStatus(ctx, failedAt, {
          state: 'error',
          reason: (err as Error).message,
          httpStatus: err instanceof FeedFetchError ? err.status ?? null : null,
          itemsPublished: 0
        })
        throw err
      }
    }
  }
}
