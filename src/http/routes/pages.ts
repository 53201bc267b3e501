/**
 * Pages: dashboards (`/`, `/d/:name`), embeddable tiles (`/embed/:topic`) and the embedding
 * guide (`/embed`). The first paint comes from the tiles' buffers; the page carries the bus
 * position it was rendered at, and its script streams from there.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { contentSecurityPolicy } from '../plugins/web.ts'
import { PageQuerySchema, type PageQuery } from '../schemas.ts'
import type { RouteDeps } from '../types.ts'

const THEMES = new Set(['auto', 'light', 'dark'])

export default async function pageRoutes (app: FastifyInstance, { config, bus, dashboard, access }: RouteDeps): Promise<void> {
  const { catalogue } = dashboard
  const names = Object.keys(config.dashboards)

  async function notFound (reply: FastifyReply, message: string): Promise<FastifyReply> {
    reply.code(404)
    return reply.view('error', { pageTitle: 'Not found · Ticker', heading: 'Not found', message })
  }

  const hrefOf = (name: string): string => (name === names[0] ? '/' : `/d/${name}`)

  async function dashboardPage (reply: FastifyReply, name: string, query: PageQuery): Promise<FastifyReply> {
    const tiles = catalogue.dashboard(name)
    const dash = config.dashboards[name]
    if (tiles === undefined || dash === undefined) {
      reply.code(404)
      return reply.view('error', {
        pageTitle: 'Not found · Ticker',
        heading: 'Not found',
        message: `There is no dashboard named "${name}".`,
        linksTitle: 'These are the dashboards:',
        links: names.map((n) => ({ title: config.dashboards[n]?.title ?? n, href: hrefOf(n) }))
      })
    }
    // Kiosk: no chrome, large type. Rotation: after `rotate` seconds, the next dashboard (with
    // the same query), by a meta refresh, so it works with JavaScript off too.
    const kiosk = query.kiosk === '1' || query.kiosk === 'true'
    const rotate = query.rotate ?? dash.rotate ?? 0
    const next = names[(names.indexOf(name) + 1) % names.length] as string
    const keep = new URLSearchParams({ ...(kiosk ? { kiosk: '1' } : {}), ...(query.rotate === undefined ? {} : { rotate: String(query.rotate) }) }).toString()
    const cursor = await bus.cursor() // before reading tiles: a tile may then be newer, never older
    return reply.view('dashboard', {
      pageTitle: dash.title,
      title: dash.title,
      live: true,
      kiosk,
      bodyClass: kiosk ? 'kiosk' : '',
      ...(rotate > 0 && next !== name ? { refreshSeconds: rotate, refreshUrl: keep === '' ? hrefOf(next) : `${hrefOf(next)}?${keep}` } : {}),
      cursor,
      streamUrl: `/stream?dashboard=${encodeURIComponent(name)}&layout=${catalogue.layoutOf(name)}`,
      tiles: tiles.map((tile) => dashboard.view(tile)),
      dashboards: names.map((n) => ({ title: config.dashboards[n]?.title ?? n, href: hrefOf(n), current: n === name }))
    })
  }

  const pageOptions = { schema: { querystring: PageQuerySchema } }
  app.get<{ Querystring: PageQuery }>('/', pageOptions, async (request, reply) => dashboardPage(reply, names[0] as string, request.query))
  app.get<{ Params: { name: string }, Querystring: PageQuery }>('/d/:name', pageOptions, async (request, reply) => dashboardPage(reply, request.params.name, request.query))

  app.get<{ Params: { topic: string }, Querystring: { theme?: string, compact?: string } }>('/embed/:topic', async (request, reply) => {
    const { topic } = request.params
    // The tile may show more than the topic named (a feed tile shows its status): all of it must be public.
    const tile = catalogue.ofTopic(topic)
    const shown = tile.topics
    if (!bus.hasTopic(topic) || shown.some((t) => access.isPrivate(t))) return notFound(reply, `There is no public topic named "${topic}".`)
    const theme = THEMES.has(request.query.theme ?? '') ? request.query.theme : 'auto'
    const compact = request.query.compact === '1' || request.query.compact === 'true'
    reply.header('content-security-policy', contentSecurityPolicy(["'self'", ...config.embed.frameAncestors]))
    reply.removeHeader('x-frame-options')
    const cursor = await bus.cursor()
    return reply.view('embed', {
      pageTitle: `${tile.title} · Ticker`,
      bodyClass: compact ? 'embedded compact' : 'embedded',
      theme,
      live: true,
      cursor,
      streamUrl: `/topics/${encodeURIComponent(topic)}/stream?format=html`,
      tile: dashboard.view(tile)
    })
  })

  /** At most this many live previews on /embed (the rest are listed by name). */
  const MAX_PREVIEWS = 24

  app.get<{ Querystring: { topic?: string } }>('/embed', async (request, reply) => {
    // A topic shown by another's tile (a feed's status topic) is embedded with that tile.
    const topics = (await access.readableTopics(request)).filter((t) => !access.isPrivate(t) && catalogue.ofTopic(t).id === t)
    // One preview per tile: a feed's status topic is shown by its feed's tile.
    const previews = [...new Map(topics.map((t) => [catalogue.ofTopic(t).id, catalogue.ofTopic(t)])).values()].slice(0, MAX_PREVIEWS)
    const asked = request.query.topic
    const topic = asked !== undefined && topics.includes(asked)
      ? asked
      : topics.find((t) => catalogue.ofTopic(t).kind === 'feed') ?? topics[0] ?? 'clock'
    const origin = `${request.protocol}://${request.host}`
    const cursor = await bus.cursor()
    return reply.view('embed-help', {
      pageTitle: 'Embed a tile · Ticker',
      live: true,
      topic,
      topics,
      cursor,
      streamUrl: `/stream?format=html&topics=${encodeURIComponent(catalogue.topicsOf(previews.map((tile) => tile.topic)).join(','))}`,
      tiles: previews.map((tile) => ({ ...dashboard.view(tile), snippetsHref: `/embed?topic=${encodeURIComponent(tile.topic)}#snippets`, current: tile.topic === topic })),
      more: topics.length > previews.length,
      snippets: snippets(origin, topic)
    })
  })
}

/** Copy-paste snippets for the four ways to embed a topic. */
export function snippets (origin: string, topic: string): { iframe: string, element: string, js: string, htmx: string } {
  const iframe = `<iframe src="${origin}/embed/${topic}?theme=auto&compact=1"
        title="${topic} (live)" width="360" height="240" style="border:0"></iframe>`
  const element = `<script type="module" src="${origin}/static/js/ticker-tile.js"></script>
<ticker-tile topic="${topic}" theme="auto"></ticker-tile>`
  const js = `<ul id="ticker"></ul>
<script type="module">
  const ticker = '${origin}'
  const list = document.getElementById('ticker')
  function show (data) {
    const item = document.createElement('li')
    item.textContent = data.title ?? JSON.stringify(data)  // text, never HTML
    list.prepend(item)
    while (list.children.length > 10) list.lastChild.remove()
  }
  // What history holds first, then every later event, once each, from where it ended.
  const history = await (await fetch(\`\${ticker}/topics/${topic}/events?limit=10\`)).json()
  history.events.forEach((event) => show(event.data))
  const last = history.events.at(-1)?.id
  const source = new EventSource(\`\${ticker}/topics/${topic}/stream\` +
    (last ? \`?lastEventId=\${encodeURIComponent(last)}\` : ''))
  source.addEventListener('${topic}', (event) => show(JSON.parse(event.data)))
  source.addEventListener('reset', () => list.replaceChildren())
</script>`
  const htmx = `<link rel="stylesheet" href="${origin}/static/css/tile.css">
<script src="https://your-site.example/js/htmx.min.js"></script>
<script src="https://your-site.example/js/htmx-ext-sse.js"></script>
<div class="tile" hx-ext="sse" sse-connect="${origin}/topics/${topic}/stream?format=html" sse-swap="${topic}">
  Loading…
</div>`
  return { iframe, element, js, htmx }
}
