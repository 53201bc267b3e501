// @ts-check
/**
 * What every live Ticker view shares (the dashboard, an embed, the <ticker-tile> element): one
 * EventSource that resumes from the last ID it saw, its own backoff when the browser gives up,
 * the connection state in words, stale tiles that say since when, and times kept current.
 */

const MIN_BACKOFF_MS = 1000
const MAX_BACKOFF_MS = 30_000

/** @typedef {'connecting' | 'live' | 'reconnecting' | 'offline'} ConnectionState */

/** @param {number} ms */
export function formatAge (ms) {
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

/** Keeps every "… ago" and "in …" under `root` current. @param {ParentNode} root */
export function refreshTimes (root) {
  const now = Date.now()
  for (const el of root.querySelectorAll('time[data-age]')) {
    const at = Date.parse(el.getAttribute('datetime') ?? '')
    if (!Number.isNaN(at)) el.textContent = formatAge(now - at)
  }
  for (const el of root.querySelectorAll('time[data-until]')) {
    const at = Date.parse(el.getAttribute('datetime') ?? '')
    if (!Number.isNaN(at)) el.textContent = at > now ? formatIn(at - now) : 'now'
  }
}

/**
 * Shows `state` in a `.conn` element (its `[data-conn-text]` says it in words).
 * @param {HTMLElement | null} conn
 * @param {ConnectionState} state
 * @param {number | undefined} nextTryAt
 */
export function showConnection (conn, state, nextTryAt) {
  if (conn === null) return
  conn.hidden = false
  conn.dataset.conn = state
  const text = conn.querySelector('[data-conn-text]')
  if (text === null) return
  text.textContent = state === 'offline' && nextTryAt !== undefined
    ? `Offline · next try in ${Math.max(0, Math.ceil((nextTryAt - Date.now()) / 1000))} s`
    : { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' }[state]
}

/**
 * Marks the tiles under `root` stale since `since` (each says so), or live again (undefined).
 * @param {ParentNode} root
 * @param {Element} marked what carries the `stale` class (dims the tiles)
 * @param {number | undefined} since
 */
export function showStale (root, marked, since) {
  marked.classList.toggle('stale', since !== undefined)
  for (const tile of root.querySelectorAll('[data-tile]')) {
    let note = tile.querySelector('.stale-note')
    if (since === undefined) {
      note?.remove()
      continue
    }
    if (note === null) {
      note = document.createElement('p')
      note.className = 'stale-note'
      tile.append(note)
    }
    const at = new Date(since)
    const time = document.createElement('time')
    time.dateTime = at.toISOString()
    time.textContent = at.toLocaleTimeString()
    note.replaceChildren('Not live since ', time)
  }
}

/**
 * Follows `url` (an html stream) from `lastId`, calling `onFrame` for each event named in
 * `names`, and `onState` when the connection changes. After a non-200 answer the browser stops
 * trying; this then retries with a backoff (1 s doubling to 30 s, jittered), from the last ID.
 * @param {{ url: string, lastId: string, names: readonly string[],
 *   onFrame: (name: string, html: string, id: string) => void,
 *   onState: (state: ConnectionState, nextTryAt: number | undefined) => void,
 *   onReload?: () => void }} options
 * @returns {() => void} stops following
 */
export function follow ({ url, lastId, names, onFrame, onState, onReload }) {
  let last = lastId
  let failures = 0
  /** @type {EventSource | undefined} */
  let source
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer
  function connect () {
    const from = last === '' ? url : `${url}${url.includes('?') ? '&' : '?'}lastEventId=${encodeURIComponent(last)}`
    const current = new EventSource(from)
    source = current
    onState(failures === 0 ? 'connecting' : 'reconnecting', undefined)
    current.addEventListener('open', () => {
      failures = 0
      onState('live', undefined)
    })
    for (const name of names) {
      current.addEventListener(name, (event) => {
        if (event.lastEventId !== '') last = event.lastEventId
        onFrame(name, event.data, event.lastEventId)
      })
    }
    // History was lost on the server: the frames that follow carry each tile's whole state.
    current.addEventListener('reset', () => {})
    // The page's layout is not the server's any more (a deploy changed the dashboard).
    current.addEventListener('reload', () => {
      current.close()
      onReload?.()
    })
    current.addEventListener('error', () => {
      if (current.readyState === EventSource.CONNECTING) {
        onState('reconnecting', undefined)
        return
      }
      current.close()
      failures++
      const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (failures - 1)) * (0.5 + Math.random() / 2)
      onState('offline', Date.now() + delay)
      timer = setTimeout(connect, delay)
    })
  }
  connect()
  return () => {
    clearTimeout(timer)
    source?.close()
  }
}
