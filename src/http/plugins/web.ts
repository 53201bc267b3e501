/**
 * The web face: Eta views, static files and security headers (CSP without 'unsafe-inline',
 * framing limited to this origin; embed pages widen it to `embed.frameAncestors`).
 */
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import fastifyStatic from '@fastify/static'
import helmet from 'helmet'
import view from '@fastify/view'
import type { Eta } from 'eta'

export const VIEWS_DIR = fileURLToPath(new URL('../../../views', import.meta.url))
export const STATIC_DIR = fileURLToPath(new URL('../../../static', import.meta.url))

/** The CSP every page gets; `frameAncestors` decides who may frame it. */
export function contentSecurityPolicy (frameAncestors: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors.length === 0 ? "'self'" : frameAncestors.join(' ')}`
  ].join('; ')
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `false`: the route's replies go without the document headers (CSP, HSTS, frame options,
     * ...): event streams, where they mean nothing and would be held per connection, and the
     * publish endpoint, where they would cost every event time before its fan-out.
     */
    securityHeaders?: boolean
  }
}

export async function registerWeb (app: FastifyInstance, eta: Eta): Promise<void> {
  // Helmet's middleware, built once. (@fastify/helmet builds it again on every request: ≈0.1 ms
  // each, measured on the publish path; see docs/BENCHMARKS.md.)
  const documentHeaders = helmet({
    // Set by hand below, so embed pages can widen frame-ancestors.
    contentSecurityPolicy: false,
    // Streams are read cross-origin by allow-listed sites (CORS decides); CORP would get in the way.
    crossOriginResourcePolicy: false
  })
  const csp = contentSecurityPolicy([])
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config.securityHeaders === false) {
      done()
      return
    }
    reply.header('content-security-policy', csp)
    documentHeaders(request.raw, reply.raw, () => { done() })
  })

  // production: @fastify/view otherwise switches the engine's template cache off on every view
  // unless NODE_ENV=production, and every page and stream frame would read and compile its
  // templates again (the Eta instance is shared with the dashboard's html formats).
  await app.register(view, { engine: { eta }, root: VIEWS_DIR, production: true })
  await app.register(fastifyStatic, {
    root: STATIC_DIR,
    prefix: '/static/',
    // Revalidate every time (ETag / Last-Modified answer 304): a deploy is seen at once.
    cacheControl: false,
    setHeaders: (reply) => { reply.header('cache-control', 'no-cache') }
  })
}
