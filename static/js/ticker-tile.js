// @ts-check
/**
 * <ticker-tile topic="news" theme="auto" label="World news">: one live Ticker tile on any page,
 * with no framework. Load it as a module from the Ticker server (its origin must be in
 * `cors.origins`):
 *
 *   <script type="module" src="https://ticker.example/static/js/ticker-tile.js"></script>
 *   <ticker-tile topic="news"></ticker-tile>
 *
 * It renders in its own shadow root with Ticker's tile stylesheet, so the page's CSS and the
 * tile's cannot touch each other. Every tile of the page shares ONE stream (browsers open at most
 * six connections to an origin over HTTP/1.1), which resumes after any break (with a backoff after
 * a non-200 answer); each tile says when its data is stale. `theme`: auto (the default), light or
 * dark. `label`: the heading (the topic's name by default). A topic that is not one of the
 * server's public topics is said so on its tile, and the others go on.
 */
import { follow, refreshTimes, showConnection, showStale } from './live.js'

const ORIGIN = new URL(import.meta.url).origin
const TOPIC = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** The page's tiles, and the one stream they share. */
const page = {
  /** @type {Set<TickerTile>} */
  tiles: new Set(),
  /** @type {(() => void) | undefined} */
  stop: undefined,
  /** The topics the stream follows now, as a key. */
  following: '',
  scheduled: false,
  /** @type {Promise<Set<string>> | undefined} */
  known: undefined,

  /** Public topics of the server (asked once per page). */
  async publicTopics () {
    this.known ??= fetch(`${ORIGIN}/topics`)
      .then(async (res) => new Set(/** @type {{ topics: Array<{ name: string }> }} */ (await res.json()).topics.map((t) => t.name)))
      .catch(() => new Set())
    return this.known
  },

  /** Follows the topics of every tile, once the page's changes of this turn are done. */
  update () {
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => {
      this.scheduled = false
      this.restart().catch(() => {})
    })
  },

  async restart () {
    const known = await this.publicTopics()
    const wanted = new Set()
    for (const tile of this.tiles) {
      const topic = tile.topic
      if (!TOPIC.test(topic) || !known.has(topic)) tile.unknown()
      else wanted.add(topic)
    }
    const topics = [...wanted].sort()
    const key = topics.join(',')
    if (key === this.following) return
    this.stop?.()
    this.stop = undefined
    this.following = key
    if (topics.length === 0) return
    // A new set of topics starts fresh: each tile then gets its whole current state once.
    this.stop = follow({
      url: `${ORIGIN}/stream?format=html&topics=${encodeURIComponent(key)}`,
      lastId: '',
      names: topics,
      onFrame: (name, html) => { for (const tile of this.tiles) if (tile.topic === name) tile.show(html) },
      onState: (state, nextTryAt) => { for (const tile of this.tiles) if (wanted.has(tile.topic)) tile.state(state, nextTryAt) }
    })
  }
}

class TickerTile extends HTMLElement {
  static observedAttributes = ['topic', 'label']

  /** @type {ShadowRoot} */
  #root
  /** @type {HTMLElement} */
  #tile
  /** @type {HTMLElement} */
  #body
  /** @type {HTMLElement} */
  #conn
  /** @type {HTMLElement} */
  #heading
  /** @type {number | undefined} */
  #staleSince

  constructor () {
    super()
    this.#root = this.attachShadow({ mode: 'open' })
    const style = document.createElement('link')
    style.rel = 'stylesheet'
    style.href = `${ORIGIN}/static/css/tile.css`
    this.#tile = document.createElement('section')
    this.#tile.className = 'tile'
    this.#heading = document.createElement('h2')
    this.#body = document.createElement('div')
    this.#body.className = 'tile-body'
    this.#conn = document.createElement('p')
    this.#conn.className = 'conn'
    this.#conn.setAttribute('aria-live', 'polite')
    this.#conn.innerHTML = '<span class="dot" aria-hidden="true"></span><span data-conn-text></span>'
    this.#tile.append(this.#heading, this.#body, this.#conn)
    this.#root.replaceChildren(style, this.#tile)
  }

  get topic () {
    return this.getAttribute('topic') ?? ''
  }

  connectedCallback () {
    this.#reset()
    page.tiles.add(this)
    page.update()
  }

  disconnectedCallback () {
    page.tiles.delete(this)
    page.update()
  }

  attributeChangedCallback () {
    if (!this.isConnected) return
    this.#reset()
    page.update()
  }

  /** @param {string} html the tile's body, rendered and escaped by the Ticker server */
  show (html) {
    this.#body.innerHTML = html
    refreshTimes(this.#body)
  }

  /**
   * @param {import('./live.js').ConnectionState} state
   * @param {number | undefined} nextTryAt
   */
  state (state, nextTryAt) {
    showConnection(this.#conn, state, nextTryAt)
    if (state === 'live') this.#staleSince = undefined
    else if (state !== 'connecting') this.#staleSince ??= Date.now()
    showStale(this.#root, this.#tile, this.#staleSince)
  }

  unknown () {
    this.#conn.hidden = true
    const note = document.createElement('p')
    note.className = 'empty'
    note.textContent = `"${this.topic}" is not a public topic of this Ticker.`
    this.#body.replaceChildren(note)
  }

  #reset () {
    this.#tile.dataset.tile = this.topic
    this.#heading.textContent = this.getAttribute('label') ?? this.topic
    this.#tile.setAttribute('aria-label', this.#heading.textContent)
    const waiting = document.createElement('p')
    waiting.className = 'empty'
    waiting.textContent = 'Nothing published yet.'
    this.#body.replaceChildren(waiting)
    this.#staleSince = undefined
  }
}

if (customElements.get('ticker-tile') === undefined) customElements.define('ticker-tile', TickerTile)
setInterval(() => { for (const tile of page.tiles) refreshTimes(tile.shadowRoot ?? tile) }, 1000)
