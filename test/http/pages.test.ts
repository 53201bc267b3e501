import { test } from 'node:test'
import assert from 'node:assert/strict'
import { get } from 'node:http'
import { Recorder, SUB_TOKEN, publish, readStream, startApp } from '../helper.ts'

const HOSTILE = '<img src=x onerror=alert(1)>'

/** A config with a feed-kind tile fed by POSTs, and a second dashboard. */
const PAGES = {
  topics: { headlines: { title: 'Headlines' }, 'headlines.status': {}, metrics: {}, vault: { private: true } },
  auth: { subscribeToken: SUB_TOKEN },
  dashboards: {
    main: { title: 'Main board', tiles: [{ topic: 'headlines', kind: 'feed' }, { topic: 'metrics', title: 'Custom <metrics>' }] },
    ops: { title: 'Ops', tiles: [{ topic: 'metrics' }] }
  },
  embed: { frameAncestors: ['http://partner.example'] }
}

const item = (title: string, link: string): Record<string, unknown> =>
  ({ feed: 'f', source: 'Wire & Co', title, link, published: '2026-11-22T03:00:00.000Z', summary: '' })

test('the dashboard renders buffered values on first paint, escaped, with the cursor it was rendered at', async (t) => {
  const { url } = await startApp(t, PAGES)
  await publish(url, 'headlines', item('Calm news', 'https://example.com/calm'))
  await publish(url, 'headlines', item(HOSTILE, 'javascript:alert(1)'))
  const last = await publish(url, 'metrics', { note: HOSTILE, n: 42 })
  const res = await fetch(`${url}/`)
  const html = await res.text()
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/)
  assert.ok(!html.includes(HOSTILE), 'hostile markup never appears raw')
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'), 'it appears as text')
  assert.ok(!html.includes('javascript:'), 'a javascript: link is not rendered as a link')
  assert.match(html, /<a href="https:\/\/example.com\/calm" rel="noopener noreferrer" target="_blank">Calm news<\/a>/)
  assert.match(html, /Wire &amp; Co/)
  assert.match(html, /<h2 id="h-tile-1">Custom &lt;metrics&gt;<\/h2>/)
  assert.match(html, /&quot;n&quot;: 42/)
  assert.ok(html.indexOf(HOSTILE.replaceAll('<', '&lt;').replaceAll('>', '&gt;')) < html.indexOf('Calm news'), 'newest headline first')
  assert.match(html, new RegExp(`data-cursor="${last}"`))
  assert.match(html, /data-stream="\/stream\?dashboard=main&amp;layout=[0-9a-f]{12}"/)
  assert.match(html, /<script type="module" src="\/static\/js\/dashboard.js"><\/script>/)
  assert.doesNotMatch(html, /<script>|<script type="text\/javascript">|<[^>]*\son[a-z]+=/i, 'no inline script, no inline handlers')
})

test('a second dashboard at /d/:name; unknown pages are 404 pages', async (t) => {
  const { url } = await startApp(t, PAGES)
  const ops = await (await fetch(`${url}/d/ops`)).text()
  assert.match(ops, /<title>Ops<\/title>/)
  assert.match(ops, /<a href="\/" >|<a href="\/">Main board<\/a>/)
  assert.match(ops, /aria-current="page">Ops</)
  for (const path of ['/d/nope', '/embed/nope', '/embed/vault', `/d/${encodeURIComponent(HOSTILE)}`, '/d/constructor', '/d/__proto__', '/embed/toString']) {
    const res = await fetch(`${url}${path}`, { headers: { accept: 'text/html' } })
    const html = await res.text()
    assert.equal(res.status, 404, path)
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/, path)
    assert.match(html, /<h1>Not found<\/h1>/, path)
    assert.ok(!html.includes(HOSTILE), path)
  }
  const missing = await (await fetch(`${url}/d/nope`)).text()
  assert.match(missing, /There is no dashboard named &quot;nope&quot;\.[\s\S]*<a href="\/">Main board<\/a>[\s\S]*<a href="\/d\/ops">Ops<\/a>/, 'it lists the dashboards there are')
  const res = await fetch(`${url}/no/such/page`, { headers: { accept: 'text/html,application/xhtml+xml' } })
  assert.deepEqual([res.status, (await res.text()).includes('<h1>Not found</h1>')], [404, true])
})

test('CSP without unsafe-inline; framing: same origin for dashboards, the allow-list for embeds', async (t) => {
  const { url } = await startApp(t, PAGES)
  const page = await fetch(`${url}/`)
  const csp = page.headers.get('content-security-policy') ?? ''
  assert.match(csp, /script-src 'self'/)
  assert.match(csp, /style-src 'self'/)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
  assert.match(csp, /frame-ancestors 'self'$/)
  assert.equal(page.headers.get('x-frame-options'), 'SAMEORIGIN')
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff')

  const embed = await fetch(`${url}/embed/metrics?theme=dark&compact=1`)
  assert.equal(embed.status, 200)
  assert.match(embed.headers.get('content-security-policy') ?? '', /frame-ancestors 'self' http:\/\/partner.example/)
  assert.equal(embed.headers.get('x-frame-options'), null)
  const html = await embed.text()
  assert.match(html, /<html lang="en" data-theme="dark">/)
  assert.match(html, /<body class="embedded compact">/)
  assert.doesNotMatch(html, /<header/)
  const odd = await (await fetch(`${url}/embed/metrics?theme=${encodeURIComponent('"><script>')}`)).text()
  assert.match(odd, /<html lang="en">/, 'an unknown theme falls back to auto')
})

test('static files are revalidated: no-cache with an ETag, 304 when unchanged', async (t) => {
  const { url } = await startApp(t)
  for (const path of ['/static/js/dashboard.js', '/static/css/dashboard.css', '/static/favicon.svg']) {
    const res = await fetch(`${url}${path}`)
    assert.equal(res.status, 200, path)
    assert.equal(res.headers.get('cache-control'), 'no-cache', path)
    const etag = res.headers.get('etag')
    assert.ok(etag, path)
    // Plain http.get: fetch() adds "Cache-Control: no-cache" to conditional requests, as the spec says.
    const again = await new Promise<number | undefined>((resolve, reject) => {
      get(`${url}${path}`, { headers: { 'if-none-match': etag } }, (r) => { r.resume(); resolve(r.statusCode) }).on('error', reject)
    })
    assert.equal(again, 304, path)
  }
  assert.equal((await fetch(`${url}/static/../package.json`)).status, 404)
})

test('format=html streams each event as the rendered, escaped tile, named after the tile; a fresh subscriber gets each tile once', async (t) => {
  const { url } = await startApp(t, PAGES)
  await publish(url, 'headlines', item(HOSTILE, 'https://example.com/x'))
  const statusId = await publish(url, 'headlines.status', { feed: 'Wire', state: 'error', reason: 'the server answered HTTP 500', lastSuccessAt: null })
  const fresh = await readStream(`${url}/topics/headlines/stream?format=html`, (s) => s.includes(`id: ${statusId}`))
  const frames = fresh.text.split('\n\n').filter((f) => f.includes('event: '))
  assert.equal(frames.length, 1, 'the feed tile once, though both of its topics had events')
  assert.match(frames[0] ?? '', new RegExp(`^id: ${statusId}\\nevent: headlines\\ndata: `))
  assert.match(frames[0] ?? '', /Wire could not be fetched \(the server answered HTTP 500\); these are the headlines it had/)
  assert.ok(!fresh.text.includes(HOSTILE))
  assert.ok(fresh.text.includes('&lt;img src=x onerror=alert(1)&gt;'))

  // Live, each event updates the tile: an item, then its feed's status.
  const live = new Recorder(t, `${url}/topics/headlines/stream?format=html&lastEventId=${statusId}`, ['headlines'])
  await live.opened()
  const itemId = await publish(url, 'headlines', item('Calm again', 'https://example.com/calm'))
  const okId = await publish(url, 'headlines.status', { feed: 'Wire', state: 'ok', reason: null })
  const liveFrames = await live.count(2)
  assert.deepEqual(liveFrames.map((e) => e.id), [itemId, okId])
  assert.match(liveFrames[0]?.data ?? '', /Calm again/)
  assert.doesNotMatch(liveFrames[1]?.data ?? '', /could not be fetched/)
  const bad = await fetch(`${url}/stream?format=xml`)
  assert.equal(bad.status, 400)
})

test('a dashboard\'s stream: each tile it changes, by the tile\'s id; it takes no topics or format', async (t) => {
  const { url } = await startApp(t, PAGES)
  const id = await publish(url, 'metrics', { n: 7 })
  const { text } = await readStream(`${url}/stream?dashboard=main`, (s) => s.includes(`id: ${id}`))
  assert.match(text, new RegExp(`id: ${id}\\nevent: tile-1\\ndata: `))
  const ops = await readStream(`${url}/stream?dashboard=ops`, (s) => s.includes(`id: ${id}`))
  assert.match(ops.text, new RegExp(`id: ${id}\\nevent: tile-0\\ndata: `))
  // A page rendered before a deploy changed the dashboard is told to reload, not fed wrong tiles.
  const layout = /layout=([0-9a-f]{12})/.exec(await (await fetch(`${url}/`)).text())?.[1]
  assert.ok(layout)
  const current = await readStream(`${url}/stream?dashboard=main&layout=${layout}`, (s) => s.includes(`id: ${id}`))
  assert.doesNotMatch(current.text, /event: reload/)
  const stale = await readStream(`${url}/stream?dashboard=main&layout=0123456789ab`, (s) => s.includes('\n\n'))
  assert.equal(stale.text, 'event: reload\ndata: the dashboard changed: reload the page\n\n')
  assert.match(stale.res.headers.get('content-type') ?? '', /^text\/event-stream/)
  const unknown = await fetch(`${url}/stream?dashboard=nope`)
  assert.deepEqual([unknown.status, (await unknown.json() as { code: string }).code], [404, 'TICKER_ERR_DASHBOARD_UNKNOWN'])
  for (const query of ['dashboard=main&format=json', 'dashboard=main&topic=metrics', 'dashboard=main&dashboard=ops']) {
    const res = await fetch(`${url}/stream?${query}`)
    assert.equal(res.status, query.endsWith('ops') ? 404 : 400, query)
  }
})

test('GET /embed previews every public topic live and shows snippets for the four ways to embed one', async (t) => {
  const { url } = await startApp(t, PAGES)
  await publish(url, 'metrics', { n: 1 })
  const html = await (await fetch(`${url}/embed`)).text()
  const origin = url
  assert.match(html, /data-stream="\/stream\?format=html&amp;topics=clock%2Csystem%2Cnews%2Cnews.status%2Cheadlines%2Cheadlines.status%2Cmetrics"/, 'one stream for the previews')
  assert.deepEqual([...html.matchAll(/data-tile="([^"]+)"/g)].map((m) => m[1]), ['clock', 'system', 'news', 'news.status', 'headlines', 'metrics'], 'one preview per tile (headlines shows its status topic)')
  assert.ok(html.includes(`&lt;iframe src=&quot;${origin}/embed/headlines?theme=auto&amp;compact=1&quot;`))
  assert.ok(html.includes(`&lt;script type=&quot;module&quot; src=&quot;${origin}/static/js/ticker-tile.js&quot;&gt;&lt;/script&gt;\n&lt;ticker-tile topic=&quot;headlines&quot;`))
  assert.ok(html.includes('/topics/headlines/events?limit=10'), 'the EventSource snippet starts from history')
  assert.ok(html.includes('lastEventId='))
  assert.ok(html.includes('addEventListener(&#39;reset&#39;'))
  assert.ok(html.includes(`sse-connect=&quot;${origin}/topics/headlines/stream?format=html&quot; sse-swap=&quot;headlines&quot;`))
  assert.ok(html.includes(`&lt;link rel=&quot;stylesheet&quot; href=&quot;${origin}/static/css/tile.css&quot;&gt;`))
  assert.ok(!html.includes('vault'), 'private topics are not offered')
  const metrics = await (await fetch(`${url}/embed?topic=metrics`)).text()
  assert.match(metrics, /<h2 id="snippets">Snippets for <code>metrics<\/code><\/h2>/)
  const unknown = await (await fetch(`${url}/embed?topic=vault`)).text()
  assert.match(unknown, /Snippets for <code>headlines<\/code>/, 'a topic that is not public falls back to the default')
})

test('kiosk and rotation: no chrome; the next dashboard after N seconds, by config or ?rotate, keeping the query', async (t) => {
  const { url } = await startApp(t, { ...PAGES, dashboards: { ...PAGES.dashboards, ops: { ...PAGES.dashboards.ops, rotate: 20 } } })
  const kiosk = await (await fetch(`${url}/?kiosk=1&rotate=30`)).text()
  assert.match(kiosk, /<body class="kiosk">/)
  assert.doesNotMatch(kiosk, /<nav|<footer/)
  assert.match(kiosk, /<h1 class="sr-only">Main board<\/h1>/)
  assert.match(kiosk, /<meta http-equiv="refresh" content="30;url=\/d\/ops\?kiosk=1&amp;rotate=30">/)
  const plain = await (await fetch(`${url}/`)).text()
  assert.doesNotMatch(plain, /http-equiv="refresh"/, 'the first dashboard does not rotate unless asked')
  assert.match(plain, /<nav aria-label="Dashboards">/)
  const ops = await (await fetch(`${url}/d/ops`)).text()
  assert.match(ops, /<meta http-equiv="refresh" content="20;url=\/">/, 'ops rotates by config, back to the first')
  assert.doesNotMatch(await (await fetch(`${url}/d/ops?rotate=0`)).text(), /http-equiv="refresh"/, '?rotate=0 stops it')
  for (const bad of ['rotate=abc', 'rotate=-1', 'kiosk=maybe']) {
    const res = await fetch(`${url}/?${bad}`, { headers: { accept: 'text/html' } })
    assert.equal(res.status, 400, bad)
    assert.match(await res.text(), /<h1>/, `${bad}: a page that says what is wrong`)
  }
})
