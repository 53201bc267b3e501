// @ts-check
/**
 * Live tiles: ONE EventSource for every tile on the page (browsers allow six connections per
 * origin). Each event is a tile's body, rendered and escaped by the server, so the page shows
 * exactly what a fresh render would, and swapping it in is all there is.
 *
 * - Opens the stream from the bus position the page was rendered at (data-cursor), so nothing
 *   published between render and connect is lost; the browser resumes by itself with Last-Event-ID.
 * - Says what the connection is doing: live; reconnecting (the browser retries); offline (it gave
 *   up, for instance after a 503: we retry with our own backoff from the last ID seen, and say when).
 * - While the stream is down, every tile is dimmed and says since when its data is stale: a
 *   frozen clock never looks current.
 * - Keeps every "… ago" and "in …" up to date.
 */

const MIN_BACKOFF_MS = 1000
const MAX_BACKOFF_MS = 30_000

/** @type {HTMLElement | null} */
const root = document.querySelector('[data-stream]')
/** @type {HTMLElement | null} */
const conn = document.querySelector('.conn[data-conn]:not([data-conn="static"])')

/** When the data on the page stopped being live (ms), or undefined while it is live. */
/** @type {number | undefined} */
let staleSince
/** When our own next try is due (ms), while offline. */
/** @type {number | undefined} */
let nextTryAt

/** @param {'connecting' | 'live' | 'reconnecting' | 'offline'} state */
function showConnection (state) {
  if (conn === null) return
  conn.hidden = false
  conn.dataset.conn = state
  const text = conn.querySelector('[data-conn-text]')
  if (text === null) return
  if (state === 'offline' && nextTryAt !== undefined) {
    text.textContent = `Offline · next try in ${Math.max(0, Math.ceil((nextTryAt - Date.now()) / 1000))} s`
    return
  }
  text.textContent = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' }[state]
}

/** @param {number} ms */
function formatAge (ms) {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86_400)} d ago`
}

/** @param {number} ms */
function formatIn (ms) {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `in ${s} s`
  if (s < 3600) return `in ${Math.floor(s / 60)} min`
  return `in ${Math.floor(s / 3600)} h`
}

function refreshTimes () {
  const now = Date.now()
  for (const el of document.querySelectorAll('time[data-age]')) {
    const at = Date.parse(el.getAttribute('datetime') ?? '')
    if (!Number.isNaN(at)) el.textContent = formatAge(now - at)
  }
  for (const el of document.querySelectorAll('time[data-until]')) {
    const at = Date.parse(el.getAttribute('datetime') ?? '')
    if (!Number.isNaN(at)) el.textContent = at > now ? formatIn(at - now) : 'now'
  }
  if (conn?.dataset.conn === 'offline') showConnection('offline')
}

/** Each tile says since when its data is stale (the note is redrawn after a swap). */
function showStale () {
  if (staleSince === undefined) return
  const at = new Date(staleSince)
  for (const tile of document.querySelectorAll('[data-tile]')) {
    let note = tile.querySelector('.stale-note')
    if (note === null) {
      note = document.createElement('p')
      note.className = 'stale-note'
      tile.append(note)
    }
    const time = document.createElement('time')
    time.dateTime = at.toISOString()
    time.textContent = at.toLocaleTimeString()
    note.replaceChildren('Not live since ', time)
  }
}

function markStale () {
  if (staleSince !== undefined) return
  staleSince = Date.now()
  document.body.classList.add('stale')
  showStale()
}

function markLive () {
  staleSince = undefined
  document.body.classList.remove('stale')
  for (const note of document.querySelectorAll('.stale-note')) note.remove()
}

/**
 * @param {string} id the tile's id (the name of its events)
 * @param {string} html the tile body, rendered and escaped by the server
 */
function swapTile (id, html) {
  const body = document.querySelector(`[data-tile="${CSS.escape(id)}"] .tile-body`)
  if (body === null) return
  body.innerHTML = html
  refreshTimes()
}

/** @param {HTMLElement} stream */
function start (stream) {
  const baseUrl = stream.dataset.stream ?? ''
  let lastId = stream.dataset.cursor ?? ''
  let failures = 0
  const ids = [...document.querySelectorAll('[data-tile]')].map((el) => el.getAttribute('data-tile') ?? '')

  function connect () {
    nextTryAt = undefined
    const url = lastId === '' ? baseUrl : `${baseUrl}${baseUrl.includes('?') ? '&' : '?'}lastEventId=${encodeURIComponent(lastId)}`
    const source = new EventSource(url)
    showConnection(failures === 0 ? 'connecting' : 'reconnecting')
    source.addEventListener('open', () => {
      failures = 0
      markLive()
      showConnection('live')
    })
    for (const id of ids) {
      source.addEventListener(id, (event) => {
        if (event.lastEventId !== '') lastId = event.lastEventId
        swapTile(id, event.data)
      })
    }
    // History was lost on the server (a restart, or we were away too long). The frames that
    // follow carry each tile's whole current state, so there is nothing to drop here.
    source.addEventListener('reset', () => {})
    source.addEventListener('error', () => {
      markStale()
      if (source.readyState === EventSource.CONNECTING) {
        showConnection('reconnecting')
        return
      }
      // The browser gave up for good (a non-200 answer): retry ourselves, backing off.
      source.close()
      failures++
      const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (failures - 1)) * (0.5 + Math.random() / 2)
      nextTryAt = Date.now() + delay
      showConnection('offline')
      setTimeout(connect, delay)
    })
  }
  connect()
}

if (root !== null) start(root)
refreshTimes()
setInterval(refreshTimes, 1000)
