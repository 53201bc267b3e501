/**
 * Grants: what a request may read and publish, from the token it offers (an `Authorization:
 * Bearer` header, `?access_token=`, or a cookie):
 * - the static subscribe token reads every private topic; the static publish token publishes to
 *   every topic (as before signed tokens existed);
 * - a signed token (JWT, verified with jose: HS256 with a secret, or RS256/ES256/EdDSA with a
 *   public key or a JWKS file) grants the topics its `ticker` claim names, by pattern, until it
 *   expires: {"ticker": {"subscribe": ["user.42.*", "news"], "publish": ["user.42.inbox"]}};
 * - no token: public topics only.
 * A token that is offered and fails verification is a 401 naming why; it is never logged.
 */
import { readFileSync } from 'node:fs'
import { createPublicKey } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { createLocalJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import { anyTopicPattern, isValidTopicPattern } from '../bus/topics.ts'
import type { Config } from '../config/schema.ts'
import {
  TokenAudienceError, TokenClaimsError, TokenExpiredError, TokenInvalidError, TokenIssuerError, TokenNotYetValidError
} from '../errors.ts'
import { bearerToken, tokensEqual } from './auth.ts'

export interface Grant {
  /** Whether it reads private topic `topic` (public topics need no grant). */
  readonly subscribes: (topic: string) => boolean
  readonly publishes: (topic: string) => boolean
  /** When the grant ends (ms since the epoch); streams opened under it end then. */
  readonly expiresAt?: number
  /** Whether a token was offered and understood (for telling 401 from 403). */
  readonly authenticated: boolean
}

const NOTHING = (): boolean => false
const EVERYTHING = (): boolean => true
export const ANONYMOUS: Grant = { subscribes: NOTHING, publishes: NOTHING, authenticated: false }

/** Most patterns a token may grant in each list: more is a malformed grant, not a slow match. */
const MAX_PATTERNS = 100

type Key = Parameters<typeof jwtVerify>[1] | JWTVerifyGetKey

/** The key and algorithms `auth.jwt` sets up, or undefined when signed tokens are off. */
function verifierOf (jwt: Config['auth']['jwt']): { key: Key, algorithms: string[] } | undefined {
  if (jwt.secret !== '') return { key: new TextEncoder().encode(jwt.secret), algorithms: ['HS256'] }
  if (jwt.publicKeyFile !== '') {
    const key = createPublicKey(readFileSync(jwt.publicKeyFile, 'utf8'))
    const algorithm = key.asymmetricKeyType === 'rsa'
      ? 'RS256'
      : key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
        ? 'ES256'
        : key.asymmetricKeyType === 'ed25519' ? 'EdDSA' : undefined
    if (algorithm === undefined) throw new Error(`auth.jwt.publicKeyFile: ${jwt.publicKeyFile} is not an RSA, P-256 or Ed25519 public key`)
    return { key, algorithms: [algorithm] }
  }
  if (jwt.jwksFile !== '') {
    const jwks = JSON.parse(readFileSync(jwt.jwksFile, 'utf8')) as Parameters<typeof createLocalJWKSet>[0]
    return { key: createLocalJWKSet(jwks), algorithms: ['RS256', 'ES256', 'EdDSA'] }
  }
  return undefined
}

/** jose's verdict as one of our errors: which check failed, never the token. */
function rejection (err: unknown): Error {
  if (err instanceof errors.JWTExpired) return new TokenExpiredError()
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return new TokenNotYetValidError()
    if (err.claim === 'aud') return new TokenAudienceError()
    if (err.claim === 'iss') return new TokenIssuerError()
    return new TokenClaimsError(`the "${err.claim}" claim ${err.reason === 'check_failed' ? 'failed its check' : 'is missing or malformed'}`)
  }
  return new TokenInvalidError()
}

/** The `ticker` claim's pattern list `name`, checked. */
function patterns (claim: Record<string, unknown>, name: 'subscribe' | 'publish'): string[] {
  const list = claim[name]
  if (list === undefined) return []
  if (!Array.isArray(list) || list.length > MAX_PATTERNS || !list.every((p) => typeof p === 'string' && isValidTopicPattern(p))) {
    throw new TokenClaimsError(`ticker.${name} must be a list of at most ${MAX_PATTERNS} topic patterns (dot-separated parts, * for one part)`)
  }
  return list as string[]
}

function grantOf (payload: JWTPayload): Grant {
  const claim = payload.ticker
  if (claim !== undefined && (typeof claim !== 'object' || claim === null || Array.isArray(claim))) {
    throw new TokenClaimsError('ticker must be an object with subscribe and publish lists')
  }
  const lists = (claim ?? {}) as Record<string, unknown>
  const subscribe = patterns(lists, 'subscribe')
  const publish = patterns(lists, 'publish')
  return {
    subscribes: subscribe.length === 0 ? NOTHING : anyTopicPattern(subscribe),
    publishes: publish.length === 0 ? NOTHING : anyTopicPattern(publish),
    ...(payload.exp === undefined ? {} : { expiresAt: payload.exp * 1000 }),
    authenticated: true
  }
}

/** The value of cookie `name` in a Cookie header, if it is there. */
export function cookieValue (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue
    const raw = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')
    try {
      return decodeURIComponent(raw)
    } catch {
      return raw
    }
  }
  return undefined
}

export class Grants {
  readonly #config: Readonly<Config>
  readonly #verifier: { key: Key, algorithms: string[] } | undefined
  readonly #granted = new WeakMap<FastifyRequest, Grant>()

  constructor (config: Readonly<Config>) {
    this.#config = config
    this.#verifier = verifierOf(config.auth.jwt)
  }

  /** Whether signed tokens are set up. */
  get signed (): boolean {
    return this.#verifier !== undefined
  }

  /** The token a request offers on purpose: a Bearer header, else `?access_token=`. */
  tokenOf (request: FastifyRequest): string | undefined {
    const fromHeader = bearerToken(request)
    if (fromHeader !== undefined) return fromHeader
    const fromQuery = (request.query as Record<string, unknown> | undefined)?.access_token
    return typeof fromQuery === 'string' && fromQuery !== '' ? fromQuery : undefined
  }

  /**
   * The token in the cookie, when it counts: a browser sends a cookie by itself, to whichever page
   * asked, so it is a credential only for this server's own pages (no Origin, or its own) and
   * for the origins `cors.origins` names one by one; never for "*".
   */
  cookieTokenOf (request: FastifyRequest): string | undefined {
    if (this.#verifier === undefined) return undefined
    const origin = request.headers.origin
    const own = `${request.protocol}://${request.host}`
    if (origin !== undefined && origin !== own && !this.#config.cors.origins.includes(origin)) return undefined
    return cookieValue(request.headers.cookie, this.#config.auth.jwt.cookie)
  }

  /**
   * Works out the request's grant (once per request; see of()). A token offered on purpose (a
   * header, the query) that fails verification throws the 401 that says why; a cookie that fails
   * (expired, or planted by a sibling site) is no token at all, so public reads go on.
   */
  async resolve (request: FastifyRequest): Promise<Grant> {
    const known = this.#granted.get(request)
    if (known !== undefined) return known
    const offered = this.tokenOf(request)
    let grant: Grant
    if (offered !== undefined) {
      grant = await this.grantFor(offered)
    } else {
      const cookie = this.cookieTokenOf(request)
      grant = cookie === undefined ? ANONYMOUS : await this.grantFor(cookie).catch(() => ANONYMOUS)
    }
    this.#granted.set(request, grant)
    return grant
  }

  /** The grant resolve() found for `request` (anonymous if it was not resolved). */
  of (request: FastifyRequest): Grant {
    return this.#granted.get(request) ?? ANONYMOUS
  }

  /** What `token` grants: a static token, a signed one (which must verify), or nothing. */
  async grantFor (token: string | undefined): Promise<Grant> {
    if (token === undefined) return ANONYMOUS
    const { publishToken, subscribeToken, jwt } = this.#config.auth
    const subscribesAll = subscribeToken !== '' && tokensEqual(token, subscribeToken)
    const publishesAll = publishToken !== '' && tokensEqual(token, publishToken)
    if (subscribesAll || publishesAll) {
      return { subscribes: subscribesAll ? EVERYTHING : NOTHING, publishes: publishesAll ? EVERYTHING : NOTHING, authenticated: true }
    }
    // A token that is no static one: without signed tokens, it grants nothing (as a wrong
    // static token always did); with them, it must verify.
    if (this.#verifier === undefined) return ANONYMOUS
    let payload: JWTPayload
    try {
      ({ payload } = await jwtVerify(token, this.#verifier.key as Parameters<typeof jwtVerify>[1], {
        algorithms: this.#verifier.algorithms,
        clockTolerance: jwt.clockToleranceSeconds,
        ...(jwt.requireExp ? { requiredClaims: ['exp'] } : {}),
        ...(jwt.audience === '' ? {} : { audience: jwt.audience }),
        ...(jwt.issuer === '' ? {} : { issuer: jwt.issuer })
      }))
    } catch (err) {
      throw rejection(err)
    }
    return grantOf(payload)
  }
}
