// @ts-check
/**
 * Live tiles: ONE EventSource for every tile on the page (browsers allow six connections per
 * origin). Each event is a tile's body, rendered and escaped by the server, so the page shows
 * exactly what a fresh render would, and swapping it in is all there is.
 *
 * - Opens the stream from the bus position the page was rendered at (data-cursor), so nothing
 *   published between render and connect is lost; then resumes from the last ID it saw.
 * - Says what the connection is doing: live; reconnecting; offline, with the next try.
 * - While the stream is down, every tile is dimmed and says since when its data is stale: a
 *   frozen clock never looks current.
 */
import { follow, refreshTimes, showConnection, showStale } from './live.js'

/** @type {HTMLElement | null} */
const root = document.querySelector('[data-stream]')
/** @type {HTMLElement | null} */
const conn = document.querySelector('.conn[data-conn]:not([data-conn="static"])')

/** @type {number | undefined} */
let staleSince
/** @type {number | undefined} */
let nextTryAt

if (root !== null) {
  follow({
    url: root.dataset.stream ?? '',
    lastId: root.dataset.cursor ?? '',
    names: [...document.querySelectorAll('[data-tile]')].map((el) => el.getAttribute('data-tile') ?? ''),
    onFrame (id, html) {
      const body = document.querySelector(`[data-tile="${CSS.escape(id)}"] .tile-body`)
      if (body === null) return
      body.innerHTML = html
      refreshTimes(body)
    },
    onReload () {
      location.reload()
    },
    onState (state, next) {
      nextTryAt = next
      showConnection(conn, state, nextTryAt)
      if (state === 'live') staleSince = undefined
      else if (state !== 'connecting') staleSince ??= Date.now()
      showStale(document, document.body, staleSince)
    }
  })
}
refreshTimes(document)
setInterval(() => {
  refreshTimes(document)
  if (conn?.dataset.conn === 'offline') showConnection(conn, 'offline', nextTryAt)
}, 1000)
