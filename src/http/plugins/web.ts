/**
 * The web face: Eta views, static files and security headers (CSP without 'unsafe-inline',
 * framing limited to this origin; embed pages widen it to `embed.frameAncestors`).
 */
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import helmet from '@fastify/helmet'
import fastifyStatic from '@fastify/static'
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

export async function registerWeb (app: FastifyInstance, eta: Eta): Promise<void> {
  await app.register(helmet, {
    // Set by hand below, so embed pages can widen frame-ancestors.
    contentSecurityPolicy: false,
    // Streams are read cross-origin by allow-listed sites (CORS decides); CORP would get in the way.
    crossOriginResourcePolicy: false
  })
  const csp = contentSecurityPolicy([])
  app.addHook('onRequest', async (_request, reply) => { reply.header('content-security-policy', csp) })

  await app.register(view, { engine: { eta }, root: VIEWS_DIR })
  await app.register(fastifyStatic, {
    root: STATIC_DIR,
    prefix: '/static/',
    // Revalidate every time (ETag / Last-Modified answer 304): a deploy is seen at once.
    cacheControl: false,
    setHeaders: (reply) => { reply.header('cache-control', 'no-cache') }
  })
}
