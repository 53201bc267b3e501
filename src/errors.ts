/**
 * Every error Ticker answers with over HTTP, in one catalogue: one code per failure, never
 * reused, each with its status and a message that says what to do about it. Every error body is
 * `{code, message}` (see errorBody), on the main listener and the metrics one alike.
 */
import createError from '@fastify/error'
import { TOPIC_NAME_RULE } from './config/schema.ts'

// Topics
export const TopicUnknownError = createError<[string]>(
  'TICKER_ERR_TOPIC_UNKNOWN', 'Topic "%s" is not declared; declare it under `topics` in the config', 404)
export const TopicNameInvalidError = createError<[string]>(
  'TICKER_ERR_TOPIC_NAME', `Topic name "%s" is invalid: use ${TOPIC_NAME_RULE}`, 400)
export const TopicLimitError = createError<[number]>(
  'TICKER_ERR_TOPIC_LIMIT', 'No more topics can be created: the limit of %s topics is reached', 409)
export const TopicPrivateError = createError<[string]>(
  'TICKER_ERR_TOPIC_PRIVATE', 'Topic "%s" is private: send the subscriber token as "Authorization: Bearer <token>" or ?access_token=<token>', 401)

// Publishing
export const PublishDisabledError = createError(
  'TICKER_ERR_PUBLISH_DISABLED', 'Publishing over HTTP is disabled: set TICKER_PUBLISH_TOKEN (auth.publishToken) to enable it', 403)
export const PublishTokenMissingError = createError(
  'TICKER_ERR_PUBLISH_TOKEN_MISSING', 'Publishing needs "Authorization: Bearer <publish token>"', 401)
export const PublishTokenWrongError = createError(
  'TICKER_ERR_PUBLISH_TOKEN_WRONG', 'The publish token is wrong', 401)
export const PublishForbiddenError = createError<[string]>(
  'TICKER_ERR_PUBLISH_FORBIDDEN', 'Your token does not grant publishing to topic "%s"', 403)

// Signed tokens (JWT)
export const TokenInvalidError = createError(
  'TICKER_ERR_TOKEN_INVALID', 'The token is not a valid signed token for this server (malformed, tampered with, or signed with another key or algorithm)', 401)
export const TokenExpiredError = createError(
  'TICKER_ERR_TOKEN_EXPIRED', 'The token has expired (exp); get a fresh one', 401)
export const TokenNotYetValidError = createError(
  'TICKER_ERR_TOKEN_NOT_YET_VALID', 'The token is not valid yet (nbf)', 401)
export const TokenAudienceError = createError(
  'TICKER_ERR_TOKEN_AUDIENCE', 'The token is for another audience (aud)', 401)
export const TokenIssuerError = createError(
  'TICKER_ERR_TOKEN_ISSUER', 'The token comes from another issuer (iss)', 401)
export const TokenClaimsError = createError<[string]>(
  'TICKER_ERR_TOKEN_CLAIMS', 'The token\'s grant is not understood: %s', 401)
export const TopicNotGrantedError = createError<[string]>(
  'TICKER_ERR_TOPIC_NOT_GRANTED', 'Your token does not grant reading topic "%s"', 403)

export const DataNotJsonError = createError<[string]>(
  'TICKER_ERR_DATA_NOT_JSON', 'data must be a JSON value: %s', 400)
export const DataTooDeepError = createError<[number]>(
  'TICKER_ERR_DATA_TOO_DEEP', 'data is nested deeper than %s levels; flatten it', 400)

// The bus
export const BusUnavailableError = createError(
  'TICKER_ERR_BUS_UNAVAILABLE', 'The event store (Redis) is unavailable; retry shortly', 503)
export const BusFullError = createError(
  'TICKER_ERR_BUS_FULL', 'The event store (Redis) is full (its maxmemory): it takes no event and serves no history until it has room; nothing was published', 503)
export const BusTimeoutError = createError(
  'TICKER_ERR_BUS_TIMEOUT', 'The event store (Redis) did not answer in time: the event may or may not have been published', 504)

export const FencedError = createError<[string]>(
  'TICKER_ERR_FENCED', 'Producer %s lost its lease to another instance; this instance no longer publishes for it', 409)

// Streams
export const StreamFormatError = createError<[string]>(
  'TICKER_ERR_STREAM_FORMAT', 'format must be one of %s (json is the default), given once', 400)
export const DashboardUnknownError = createError<[string]>(
  'TICKER_ERR_DASHBOARD_UNKNOWN', 'There is no dashboard named "%s"', 404)
export const DashboardStreamQueryError = createError(
  'TICKER_ERR_DASHBOARD_STREAM_QUERY', 'A dashboard stream (dashboard=) takes no topic, topics or format: it follows its tiles, as HTML', 400)
export const TooManyTopicsError = createError<[number, number]>(
  'TICKER_ERR_TOO_MANY_TOPICS', 'A stream may follow at most %s topics; got %s', 400)
export const TooManyConnectionsError = createError(
  'TICKER_ERR_TOO_MANY_CONNECTIONS', 'The server has reached its limit of open streams; retry later', 503)
export const TooManyConnectionsFromClientError = createError(
  'TICKER_ERR_TOO_MANY_CONNECTIONS_FROM_CLIENT', 'Too many open streams from your address; close some or retry later', 429)
export const ShuttingDownError = createError(
  'TICKER_ERR_SHUTTING_DOWN', 'The server is shutting down; retry shortly', 503)

// Metrics
export const MetricsTokenError = createError(
  'TICKER_ERR_METRICS_TOKEN', 'Scraping needs "Authorization: Bearer <metrics token>" (metrics.token)', 401)
export const MetricsOnlyError = createError(
  'TICKER_ERR_NOT_FOUND', 'Only GET /metrics is served here', 404)

// Requests in general
export const NotFoundError = createError<[string, string]>(
  'TICKER_ERR_NOT_FOUND', 'Route %s %s does not exist', 404)
export const PreflightError = createError(
  'TICKER_ERR_PREFLIGHT', 'A CORS preflight needs the Origin and Access-Control-Request-Method headers', 400)
export const MalformedRequestError = createError(
  'TICKER_ERR_MALFORMED_REQUEST', 'The request is not valid HTTP/1.1', 400)
export const HeadersTooLargeError = createError(
  'TICKER_ERR_HEADERS_TOO_LARGE', 'The request headers are too large', 431)
export const RequestTimeoutError = createError(
  'TICKER_ERR_REQUEST_TIMEOUT', 'The request took too long to arrive', 408)
export const HostMissingError = createError(
  'TICKER_ERR_HOST_MISSING', 'An HTTP/1.1 request needs a Host header', 400)
export const ExpectationFailedError = createError(
  'TICKER_ERR_EXPECTATION_FAILED', 'The only Expect this server meets is 100-continue', 417)
export const MethodNotAllowedError = createError(
  'TICKER_ERR_METHOD_NOT_ALLOWED', 'This server does not tunnel (CONNECT)', 405)
export const PreconditionFailedError = createError(
  'TICKER_ERR_PRECONDITION_FAILED', 'The file does not meet the request\'s If-Match or If-Unmodified-Since', 412)
export const RangeNotSatisfiableError = createError(
  'TICKER_ERR_RANGE_NOT_SATISFIABLE', 'The requested range is outside the file', 416)
export const RequestRefusedError = createError<[number]>(
  'TICKER_ERR_REQUEST_REFUSED', 'The request was refused (HTTP %s)', 400)
export const InternalError = createError(
  'TICKER_ERR_INTERNAL', 'Internal server error', 500)

/** What every error answer says. */
export interface ErrorBody {
  readonly code: string
  readonly message: string
}

interface CodedError {
  readonly code?: string
  readonly statusCode?: number
  readonly message: string
}

/**
 * Fastify's own errors while reading a request, in words a client can act on; their codes stay
 * (clients may already test for them). `limits` fills in the numbers.
 */
function fastifyMessage (err: CodedError, limits: { readonly bodyLimitBytes: number }): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return `Request body is larger than the limit of ${limits.bodyLimitBytes} bytes`
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return 'Request body is not valid JSON, or has a __proto__ or constructor.prototype key (refused)'
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return 'Request body is empty; send JSON such as {"data": ...}'
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return 'Send the body as JSON with "Content-Type: application/json"'
    case 'FST_ERR_MAX_PARAM_LENGTH': return 'A part of the path is over 100 characters long (topic names have at most 64)'
    default: return err.message
  }
}

/** Errors that libraries raise with a 4xx status and no code (such as @fastify/send's), by status. */
const BY_STATUS: Readonly<Record<number, () => CodedError & { statusCode: number }>> = {
  412: () => new PreconditionFailedError(),
  416: () => new RangeNotSatisfiableError()
}

/** `err` with a code from the catalogue, when a library raised it with a 4xx status only. */
function coded (err: CodedError): CodedError {
  const status = err.statusCode ?? 500
  if (err.code !== undefined || status >= 500) return err
  const known = BY_STATUS[status]?.()
  if (known !== undefined) return known
  const refused = new RequestRefusedError(status)
  return { code: refused.code, statusCode: status, message: refused.message }
}

/**
 * The status and body of any error: ours as they are, Fastify's and libraries' 4xx with words a
 * client can act on, anything else an internal error (its details go to the log, not to the
 * client). Messages never echo the URL.
 */
export function errorBody (error: CodedError, limits: { readonly bodyLimitBytes: number }): { status: number, body: ErrorBody } {
  const err = coded(error)
  const status = err.statusCode ?? 500
  const ours = err.code?.startsWith('TICKER_ERR_') === true
  if (err.code === undefined || (status >= 500 && !ours)) {
    const internal = new InternalError()
    return { status: internal.statusCode, body: { code: internal.code, message: internal.message } }
  }
  return { status, body: { code: err.code, message: ours ? err.message : fastifyMessage(err, limits) } }
}
