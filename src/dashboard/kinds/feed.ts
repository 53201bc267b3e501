/**
 * feed: the newest headlines of a feed, and its status (from `<topic>.status`): a feed that cannot
 * be fetched keeps its headlines and says so calmly, with its last success and next attempt.
 */
import { feedStatusTopic } from '../../config/schema.ts'
import { formatAge } from '../format.ts'
import { asObject, iso, str } from './data.ts'
import type { TileKindSpec } from './types.ts'

export const feed: TileKindSpec = {
  settings: ['limit'],
  keep: (tile, ui) => tile.limit ?? ui.feedItems,
  view ({ tile, events, now }) {
    const items = [...events(tile.topic)].reverse().slice(0, tile.options.limit ?? Infinity).map((event) => {
      const item = asObject(event.data)
      const published = Date.parse(str(item.published))
      const when = Number.isNaN(published) ? event.time : published
      const link = str(item.link)
      return {
        id: event.id,
        title: str(item.title) || '(untitled)',
        link: /^https?:\/\//.test(link) ? link : null,
        source: str(item.source),
        whenIso: iso(when),
        age: formatAge(now - when)
      }
    })
    const statusEvent = tile.topics.includes(feedStatusTopic(tile.topic)) ? events(feedStatusTopic(tile.topic)).at(-1) : undefined
    const status = statusEvent === undefined ? undefined : asObject(statusEvent.data)
    const next = Date.parse(str(status?.nextAttemptAt))
    return {
      feed: {
        items,
        error: status?.state === 'error'
          ? {
              name: str(status.feed) || tile.title,
              reason: str(status.reason),
              since: str(status.lastSuccessAt) || null,
              nextIso: Number.isNaN(next) ? null : iso(next)
            }
          : null
      }
    }
  }
}
