// @ts-check
/**
 * Live tiles: ONE EventSource for every tile on the page (browsers allow six connections per
 * origin). The stream is `format=html`: each event is a tile's body, rendered and escaped by the
 * server, so the page shows exactly what a fresh render would, and swapping it in is all there is.
 *
 * - Opens the stream from the bus position the page was rendered at (data-cursor), so nothing
 *   published between render and connect is lost; the browser resumes by itself with Last-Event-ID.
 * - Shows the connection state: live, reconnecting (the browser retries), offline (it gave up,
 *   for instance after a 503: we retry with our own backoff from the last ID seen).
 * - Keeps every "… ago" up to date.
 */

const MIN_BACKOFF_MS = 1000
const MAX_BACKOFF_MS = 30_000

/** @type {HTMLElement | null} */
const root = document.querySelector('[data-stream]')
/** @type {HTMLElement | null} */
const conn = document.querySelector('[data-conn]')

/** @param {'connecting' | 'live' | 'reconnecting' | 'offline'} state */
function showConnection (state) {
  if (conn === null) return
  conn.dataset.conn = state
  const text = conn.querySelector('[data-conn-text]')
  if (text !== null) {
    text.textContent = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline, retrying…' }[state]
  }
}

/** @param {number} ms */
function formatAge (ms) {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86_400)} d ago`
}

function refreshAges () {
  const now = Date.now()
  for (const el of document.querySelectorAll('time[data-age]')) {
    const at = Date.parse(el.getAttribute('datetime') ?? '')
    if (!Number.isNaN(at)) el.textContent = formatAge(now - at)
  }
}

/**
 * @param {string} topic
 * @param {string} html the tile body, rendered and escaped by the server
 */
function swapTile (topic, html) {
  const body = document.querySelector(`[data-tile="${CSS.escape(topic)}"] .tile-body`)
  if (body === null) return
  body.innerHTML = html
  refreshAges()
}

/** @param {HTMLElement} stream */
function start (stream) {
  const baseUrl = stream.dataset.stream ?? ''
  let lastId = stream.dataset.cursor ?? ''
  let failures = 0
  const topics = [...document.querySelectorAll('[data-tile]')].map((el) => el.getAttribute('data-tile') ?? '')

  function connect () {
    const url = lastId === '' ? baseUrl : `${baseUrl}&lastEventId=${encodeURIComponent(lastId)}`
    const source = new EventSource(url)
    showConnection(failures === 0 ? 'connecting' : 'reconnecting')
    source.addEventListener('open', () => {
      failures = 0
      showConnection('live')
    })
    for (const topic of topics) {
      source.addEventListener(topic, (event) => {
        if (event.lastEventId !== '') lastId = event.lastEventId
        swapTile(topic, event.data)
      })
    }
    // History was lost on the server (a restart, or we were away too long). The frames that
    // follow carry each tile's whole current state, so there is nothing to drop here.
    source.addEventListener('reset', () => {})
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CONNECTING) {
        showConnection('reconnecting')
        return
      }
      // The browser gave up for good (a non-200 answer): retry ourselves, backing off.
      source.close()
      failures++
      showConnection('offline')
      const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (failures - 1)) * (0.5 + Math.random() / 2)
      setTimeout(connect, delay)
    })
  }
  connect()
}

if (root !== null) start(root)
refreshAges()
setInterval(refreshAges, 1000)
