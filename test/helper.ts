/**
 * Test helpers: a real app on an ephemeral port, a recording EventSource client, a TCP proxy
 * that can cut connections, and bounded waits. Everything started here is closed with t.after().
 */
import { once } from 'node:events'
import { get, type IncomingMessage } from 'node:http'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import type { TestContext } from 'node:test'
import { EventSource } from 'eventsource'
import { createParser } from 'eventsource-parser'
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../src/app.ts'
import { buildConfig, mergeConfig } from '../src/config/load.ts'
import type { Config } from '../src/config/schema.ts'

export const TOKEN = 'test-publish-token'
export const SUB_TOKEN = 'test-subscribe-token'

/** Settings every test app starts from: quiet, fast reconnects, a publish token. */
const TEST_DEFAULTS = {
  server: { port: 0 },
  log: { level: 'silent' },
  auth: { publishToken: TOKEN },
  sse: { retryMs: 20 },
  // Tests that want producers turn them on; none reaches beyond loopback.
  producers: { clock: { enabled: false }, system: { enabled: false }, feeds: [] }
}

export interface Started {
  app: FastifyInstance
  url: string
  port: number
  config: Readonly<Config>
}

export function testConfig (overrides: unknown = {}): Readonly<Config> {
  return buildConfig(mergeConfig(TEST_DEFAULTS, overrides))
}

/** A loopback port free right now (for a child process that must be told its port). */
export async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A real server on 127.0.0.1 and an ephemeral port, closed when the test ends. */
export async function startApp (t: TestContext, overrides: unknown = {}, options: BuildOptions = {}): Promise<Started> {
  const config = testConfig(overrides)
  const app = await buildApp(config, options)
  t.after(() => app.close())
  await app.listen({ host: '127.0.0.1', port: config.server.port })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { app, url: `http://127.0.0.1:${address.port}`, port: address.port, config }
}

/** The stream writers every stream contract test runs against (src/sse/writers). */
export const STREAM_WRITERS = ['auto', 'plain'] as const
export type StreamWriterMode = typeof STREAM_WRITERS[number]

/**
 * Declares a file's tests once per stream writer: `define` gets the writer's name (for test
 * titles) and a startApp that runs the app with that writer.
 */
export function forEachWriter (define: (writer: StreamWriterMode, start: typeof startApp) => void): void {
  for (const writer of STREAM_WRITERS) {
    define(writer, async (t, overrides = {}, options = {}) => startApp(t, mergeConfig({ sse: { writer } }, overrides), options))
  }
}

/** A log destination that keeps the parsed JSON lines, for asserting on what was logged. */
export function logCapture (): { stream: { write (line: string): void }, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  return { lines, stream: { write: (line) => { lines.push(JSON.parse(line) as Record<string, unknown>) } } }
}

/** Resolves when `check` returns something other than undefined/false; fails after `timeoutMs`. */
export async function waitUntil<T> (check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Reads a raw HTTP stream until `done(text so far)` is true; returns the response and the text. */
export async function readStream (url: string, done: (text: string) => boolean, init: RequestInit = {}, timeoutMs = 5000): Promise<{ res: Response, text: string }> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  try {
    const res = await fetch(url, { ...init, signal: controller.signal })
    const reader = res.body?.getReader()
    const decoder = new TextDecoder()
    let text = ''
    if (reader === undefined) return { res, text }
    while (!done(text)) {
      const { value, done: ended } = await reader.read()
      if (ended) break
      text += decoder.decode(value, { stream: true })
    }
    return { res, text }
  } catch (err) {
    throw new Error(`reading ${url}: ${(err as Error).message}`)
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
}

/** POST an event with the test publish token; returns the new ID. */
export async function publish (url: string, topic: string, data: unknown): Promise<string> {
  const res = await fetch(`${url}/topics/${topic}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ data })
  })
  const body = await res.json() as { id?: string, message?: string }
  if (res.status !== 201 || body.id === undefined) throw new Error(`publish failed: ${res.status} ${body.message}`)
  return body.id
}

export interface Received {
  type: string
  id: string
  data: string
}

/** An `eventsource` client that records every named event it is told about. */
export class Recorder {
  readonly events: Received[] = []
  readonly source: EventSource
  opens = 0
  errors = 0

  constructor (t: TestContext, url: string, names: readonly string[], init?: { fetch?: typeof fetch }) {
    this.source = new EventSource(url, init)
    t.after(() => this.source.close())
    this.source.addEventListener('open', () => { this.opens++ })
    this.source.addEventListener('error', () => { this.errors++ })
    for (const name of [...names, 'reset']) {
      this.source.addEventListener(name, (e) => {
        this.events.push({ type: e.type, id: e.lastEventId, data: e.data })
      })
    }
  }

  of (type: string): Received[] {
    return this.events.filter((e) => e.type === type)
  }

  async count (n: number, timeoutMs = 5000): Promise<Received[]> {
    return waitUntil(() => this.events.length >= n && this.events, timeoutMs, `${n} events (have ${this.events.length})`)
  }

  async opened (n = 1, timeoutMs = 5000): Promise<void> {
    await waitUntil(() => this.opens >= n, timeoutMs, `open #${n}`)
  }
}

/**
 * The IDs of the events on one stream, read with node:http and eventsource-parser: light
 * enough for a test to hold a thousand streams (an EventSource each would be far heavier).
 */
export class StreamTap {
  readonly ids: string[] = []
  comments = 0

  private constructor () {}

  /** Resolves once the response head has arrived (the stream is registered with the hub). */
  static async open (t: TestContext, url: string): Promise<StreamTap> {
    const tap = new StreamTap()
    const parser = createParser({
      onEvent: (e) => { if (e.id !== undefined) tap.ids.push(e.id) },
      onComment: () => { tap.comments++ }
    })
    const req = get(url, { headers: { accept: 'text/event-stream' } })
    t.after(() => req.destroy())
    const [res] = await once(req, 'response') as [IncomingMessage]
    if (res.statusCode !== 200) throw new Error(`stream answered ${res.statusCode}`)
    res.setEncoding('utf8')
    res.on('data', (text: string) => parser.feed(text))
    return tap
  }

  async count (n: number, timeoutMs = 5000): Promise<string[]> {
    return waitUntil(() => this.ids.length >= n && this.ids, timeoutMs, `${n} events (have ${this.ids.length})`)
  }
}

/** A TCP proxy in front of a server: cut() drops every connection; retarget() points it elsewhere. */
export class CuttableProxy {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #targetPort: number
  #blocked = false

  private constructor (server: Server, targetPort: number) {
    this.#server = server
    this.#targetPort = targetPort
    server.on('connection', (client) => {
      if (this.#blocked) {
        client.destroy()
        return
      }
      const upstream = new (client.constructor as typeof Socket)()
      upstream.connect(this.#targetPort, '127.0.0.1')
      for (const s of [client, upstream]) {
        this.#sockets.add(s)
        s.on('close', () => this.#sockets.delete(s))
        s.on('error', () => { client.destroy(); upstream.destroy() })
      }
      client.pipe(upstream).pipe(client)
    })
  }

  static async start (t: TestContext, targetPort: number): Promise<CuttableProxy> {
    const server = createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const proxy = new CuttableProxy(server, targetPort)
    t.after(() => proxy.close())
    return proxy
  }

  get url (): string {
    const address = this.#server.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    return `http://127.0.0.1:${address.port}`
  }

  retarget (port: number): void { this.#targetPort = port }

  /** Drops every open connection. */
  cut (): void {
    for (const s of this.#sockets) s.destroy()
  }

  /** Drops every open connection and refuses new ones until unblock(): the client is offline. */
  block (): void {
    this.#blocked = true
    this.cut()
  }

  unblock (): void { this.#blocked = false }

  async close (): Promise<void> {
    this.cut()
    await new Promise((resolve) => this.#server.close(resolve))
  }
}

/**
 * A raw TCP connection to a server: what it sends is written as is (pipelined requests, partial
 * requests, junk), and everything the server sends back is collected as latin1 text.
 */
export class RawConnection {
  readonly socket: Socket
  #text = ''
  #closed = false

  private constructor (socket: Socket) {
    this.socket = socket
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => { this.#text += d })
    socket.on('error', () => {}) // a reset by the server is what some tests wait for
    socket.on('close', () => { this.#closed = true })
  }

  static async open (t: TestContext, port: number, options: { allowHalfOpen?: boolean } = {}): Promise<RawConnection> {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false })
    t.after(() => socket.destroy())
    await once(socket, 'connect')
    return new RawConnection(socket)
  }

  /** Everything received so far. */
  get text (): string { return this.#text }

  get closed (): boolean { return this.#closed }

  send (bytes: string): void { this.socket.write(bytes) }

  async received (what: string | RegExp, timeoutMs = 5000): Promise<string> {
    const found = (): boolean => (typeof what === 'string' ? this.#text.includes(what) : what.test(this.#text))
    return waitUntil(() => found() && this.#text, timeoutMs, `${String(what)} (have ${JSON.stringify(this.#text.slice(0, 300))})`)
  }

  async whenClosed (timeoutMs = 5000): Promise<void> {
    await waitUntil(() => this.#closed, timeoutMs, 'the connection to close')
  }
}

/** `GET path` as a raw HTTP/1.1 request. */
export const rawGet = (path: string, headers = ''): string => `GET ${path} HTTP/1.1\r\nHost: test\r\n${headers}\r\n`

/** The payload of a chunked HTTP body, up to the last whole chunk (the rest may have been cut). */
export function dechunk (body: string): string {
  let out = ''
  let at = 0
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at)
    if (lineEnd === -1) return out
    const size = Number.parseInt(body.slice(at, lineEnd), 16)
    if (!Number.isFinite(size) || size === 0 || body.length < lineEnd + 2 + size + 2) return out
    out += body.slice(lineEnd + 2, lineEnd + 2 + size)
    at = lineEnd + 2 + size + 2
  }
}
