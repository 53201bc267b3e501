/**
 * From a fetched body to the items Ticker publishes: parse (feedsmith: RSS, Atom, RDF, JSON Feed;
 * no entity expansion, no external entities), then normalise every format to one FeedItem with
 * plain-text title and summary and only http(s) links. Pure.
 */
import { parseFeed } from 'feedsmith'
import { convert } from 'html-to-text'

export interface FeedItem {
  /** The de-duplication key: guid/id, else link, else title + date. */
  readonly key: string
  readonly title: string
  /** Absolute http(s) URL, or null (other schemes, such as javascript:, are dropped). */
  readonly link: string | null
  /** ISO-8601, or null when the feed gives no readable date. */
  readonly published: string | null
  readonly summary: string
}

export interface ParsedFeed {
  readonly title: string
  readonly items: readonly FeedItem[]
}

const TITLE_MAX_CHARS = 300

/** Raw fields of an item, whatever the format. */
interface RawItem {
  id?: string
  title?: string
  titleIsHtml: boolean
  link?: string
  date?: string
  summary?: string
}

const HTML_TO_TEXT = {
  wordwrap: false as const,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' }
  ]
}

/** HTML to one line of plain text, cut to `maxChars` (with an ellipsis). */
export function plainText (html: string, maxChars: number, isHtml = true): string {
  const text = (isHtml ? convert(html, HTML_TO_TEXT) : html).replace(/\s+/g, ' ').trim()
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1).trimEnd()}…`
}

/** An absolute http(s) URL, resolved against the feed's URL; anything else is null. */
export function safeLink (link: string | undefined, base: string): string | null {
  if (link === undefined || link.trim() === '') return null
  try {
    const url = new URL(link.trim(), base)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null
  } catch {
    return null
  }
}

function isoDate (value: string | undefined): string | null {
  if (value === undefined) return null
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? null : new Date(ms).toISOString()
}

const textOf = (value: string | { value?: string } | undefined): string | undefined =>
  typeof value === 'string' ? value : value?.value

function rawItems (body: string): { title: string, items: RawItem[] } {
  const trimmed = body.trimStart()
  const parsed = parseFeed(trimmed.startsWith('{') ? JSON.parse(trimmed) as unknown : body)
  switch (parsed.format) {
    case 'rss': {
      const { feed } = parsed
      return {
        title: feed.title ?? '',
        items: (feed.items ?? []).map((item) => ({
          id: item.guid?.value,
          title: item.title,
          titleIsHtml: true,
          link: item.link,
          date: item.pubDate ?? item.dc?.dates?.[0],
          summary: item.description ?? item.content?.encoded
        }))
      }
    }
    case 'atom': {
      const { feed } = parsed
      return {
        title: textOf(feed.title) ?? '',
        items: (feed.entries ?? []).map((entry) => ({
          id: entry.id,
          title: textOf(entry.title),
          titleIsHtml: typeof entry.title === 'object' && entry.title?.type !== undefined && entry.title.type !== 'text',
          link: (entry.links?.find((l) => l.rel === undefined || l.rel === 'alternate') ?? entry.links?.[0])?.href,
          date: entry.published ?? entry.updated,
          summary: textOf(entry.summary) ?? textOf(entry.content)
        }))
      }
    }
    case 'rdf': {
      const { feed } = parsed
      return {
        title: feed.title ?? '',
        items: (feed.items ?? []).map((item) => ({
          id: item.rdf?.about,
          title: item.title,
          titleIsHtml: true,
          link: item.link,
          date: item.dc?.dates?.[0],
          summary: item.description
        }))
      }
    }
    case 'json': {
      const { feed } = parsed
      return {
        title: feed.title ?? '',
        items: (feed.items ?? []).map((item) => ({
          id: item.id,
          title: item.title,
          titleIsHtml: false,
          link: item.url ?? item.external_url,
          date: item.date_published ?? item.date_modified,
          summary: item.summary ?? item.content_text ?? item.content_html
        }))
      }
    }
  }
}

/**
 * Parses a feed body. Throws an Error with a readable message for anything that is not a feed
 * (HTML, malformed XML, JSON that is not JSON Feed).
 */
export function parseFeedItems (body: string, feedUrl: string, summaryMaxChars: number): ParsedFeed {
  let raw
  try {
    raw = rawItems(body)
  } catch (err) {
    const name = (err as Error).name
    const why = name === 'SyntaxError' ? 'invalid JSON' : (err as Error).message
    throw new Error(`not a readable RSS, Atom, RDF or JSON feed (${why})`)
  }
  const items = raw.items.map((item): FeedItem => {
    const title = plainText(item.title ?? '', TITLE_MAX_CHARS, item.titleIsHtml)
    const link = safeLink(item.link, feedUrl)
    const published = isoDate(item.date)
    const key = item.id?.trim() !== undefined && item.id.trim() !== ''
      ? `id:${item.id.trim()}`
      : link !== null ? `link:${link}` : `title:${title}|${published ?? ''}`
    return { key, title: title === '' ? '(untitled)' : title, link, published, summary: plainText(item.summary ?? '', summaryMaxChars) }
  })
  return { title: plainText(raw.title, TITLE_MAX_CHARS), items }
}
