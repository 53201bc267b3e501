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
 * tile's cannot touch each other. It stays live, resumes from the last event it got after any
 * break (with a backoff after a non-200 answer), and says when its data is stale.
 * `theme`: auto (the default), light or dark. `label`: the heading (the topic's name by default).
 */
import { follow, refreshTimes, showConnection, showStale } from './live.js'

const ORIGIN = new URL(import.meta.url).origin
const TOPIC = /^[a-z0-9][a-z0-9._-]{0,63}$/

class TickerTile extends HTMLElement {
  static observedAttributes = ['topic', 'label']

  /** @type {ShadowRoot} */
  #root
  /** @type {(() => void) | undefined} */
  #stop
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #clock
  /** @type {number | undefined} */
  #staleSince

  constructor () {
    super()
    this.#root = this.attachShadow({ mode: 'open' })
  }

  connectedCallback () {
    this.#start()
  }

  disconnectedCallback () {
    this.#end()
  }

  attributeChangedCallback () {
    if (this.isConnected) this.#start()
  }

  #end () {
    this.#stop?.()
    this.#stop = undefined
    clearInterval(this.#clock)
  }

  #start () {
    this.#end()
    const topic = this.getAttribute('topic') ?? ''
    const style = document.createElement('link')
    style.rel = 'stylesheet'
    style.href = `${ORIGIN}/static/css/tile.css`
    const tile = document.createElement('section')
    tile.className = 'tile'
    tile.dataset.tile = topic
    const heading = document.createElement('h2')
    heading.textContent = this.getAttribute('label') ?? topic
    const body = document.createElement('div')
    body.className = 'tile-body'
    const waiting = document.createElement('p')
    waiting.className = 'empty'
    const conn = document.createElement('p')
    conn.className = 'conn'
    conn.setAttribute('aria-live', 'polite')
    conn.innerHTML = '<span class="dot" aria-hidden="true"></span><span data-conn-text></span>'
    tile.setAttribute('aria-label', heading.textContent)
    tile.append(heading, body, conn)
    body.append(waiting)
    this.#root.replaceChildren(style, tile)
    if (!TOPIC.test(topic)) {
      waiting.textContent = `"${topic}" is not a topic name.`
      return
    }
    waiting.textContent = 'Nothing published yet.'
    this.#staleSince = undefined
    this.#stop = follow({
      url: `${ORIGIN}/topics/${encodeURIComponent(topic)}/stream?format=html`,
      lastId: '',
      names: [topic],
      onFrame: (_name, html) => {
        body.innerHTML = html // rendered and escaped by the Ticker server
        refreshTimes(body)
      },
      onState: (state, nextTryAt) => {
        showConnection(conn, state, nextTryAt)
        if (state === 'live') this.#staleSince = undefined
        else if (state !== 'connecting') this.#staleSince ??= Date.now()
        showStale(this.#root, tile, this.#staleSince)
      }
    })
    this.#clock = setInterval(() => refreshTimes(body), 1000)
  }
}

if (customElements.get('ticker-tile') === undefined) customElements.define('ticker-tile', TickerTile)
