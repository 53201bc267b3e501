/**
 * What the schema cannot say: checks that span several fields (topics and the producers and
 * tiles that use them, privacy that must agree, cron expressions, time zones, key files). Each
 * problem is one line naming the field; see load.ts for how they are reported.
 */
import { readFileSync } from 'node:fs'
import { createPublicKey } from 'node:crypto'
import { validateDetailed } from 'node-cron'
import { RESERVED_TOPIC_NAMES, feedStatusTopic, type Config } from './schema.ts'
import { inferKind, tileProblems } from '../dashboard/catalogue.ts'
import { isValidTopicPattern, topicPattern } from '../bus/topics.ts'

/** Checks that span several fields, which the schema cannot express. */
export function crossFieldProblems (config: Config): string[] {
  const problems: string[] = []
  const names = Object.keys(config.topics)
  for (const name of names) {
    if (RESERVED_TOPIC_NAMES.has(name)) problems.push(`topics.${name}: "${name}" is reserved for control events; pick another name`)
  }
  for (const pattern of Object.keys(config.topicPatterns)) {
    if (!isValidTopicPattern(pattern) || !pattern.includes('*')) {
      problems.push(`topicPatterns.${pattern}: not a topic pattern; expected dot-separated parts of a-z 0-9 _ -, with * for one part (e.g. user.*.inbox)`)
    }
  }
  problems.push(...familyPrivacyProblems(config))
  const privateTopics = [...names.filter((n) => config.topics[n]?.private === true),
    ...Object.keys(config.topicPatterns).filter((p) => config.topicPatterns[p]?.private === true)]
  const { jwt } = config.auth
  const verifiers = [jwt.secret, jwt.publicKeyFile, jwt.jwksFile].filter((v) => v !== '').length
  if (privateTopics.length > 0 && config.auth.subscribeToken === '' && verifiers === 0) {
    problems.push(`auth.subscribeToken: required because topics ${privateTopics.join(', ')} are private (or set TICKER_SUBSCRIBE_TOKEN, or auth.jwt)`)
  }
  if (verifiers > 1) problems.push('auth.jwt: set one of secret, publicKeyFile and jwksFile, not several')
  problems.push(...jwtKeyProblems(jwt))
  if (jwt.secret !== '' && jwt.secret.length < 32) problems.push('auth.jwt.secret: too short for HS256; use at least 32 characters (e.g. `openssl rand -base64 32`)')
  if (names.length > config.bus.maxTopics) {
    problems.push(`bus.maxTopics: ${config.bus.maxTopics} is fewer than the ${names.length} declared topics`)
  }
  problems.push(...producerProblems(config))
  problems.push(...dashboardProblems(config))
  for (const origin of config.embed.frameAncestors) {
    if (origin !== '*' && !/^https?:\/\/[^/\s;,']+$/.test(origin)) {
      problems.push(`embed.frameAncestors: "${origin}" is not an origin; expected "*" or scheme://host[:port]`)
    }
  }
  for (const origin of config.cors.origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push(`cors.origins: "${origin}" is not an origin; expected "*" or scheme://host[:port] with no path`)
    }
  }
  return problems
}

/**
 * Privacy that config would weaken without a word: the first matching pattern decides a topic's
 * settings, and a declared topic is never a family's; so patterns that can match one topic, and
 * a declared topic a pattern matches, must agree on privacy.
 */
function familyPrivacyProblems (config: Config): string[] {
  const problems: string[] = []
  const patterns = Object.keys(config.topicPatterns).filter((p) => isValidTopicPattern(p) && p.includes('*'))
  const privacy = (p: string): boolean => config.topicPatterns[p]?.private === true
  const overlap = (a: string, b: string): boolean => {
    const [x, y] = [a.split('.'), b.split('.')]
    return x.length === y.length && x.every((part, i) => part === '*' || y[i] === '*' || part === y[i])
  }
  patterns.forEach((a, i) => {
    for (const b of patterns.slice(i + 1)) {
      if (overlap(a, b) && privacy(a) !== privacy(b)) {
        problems.push(`topicPatterns.${b}: some topics match both "${a}" and "${b}", and the first match ("${a}", ${privacy(a) ? 'private' : 'public'}) decides; make both private or neither`)
      }
    }
  })
  for (const [name, topic] of Object.entries(config.topics)) {
    const family = patterns.find((p) => privacy(p) && topicPattern(p)(name))
    if (family !== undefined && topic.private !== true) {
      problems.push(`topics.${name}: matches the private family "${family}" but is declared public; declare it private: true, or name it otherwise`)
    }
  }
  return problems
}

/** A key file that cannot be read or is not a key is a config problem (exit 2), found at load. */
function jwtKeyProblems (jwt: Config['auth']['jwt']): string[] {
  const read = (field: string, path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8')
    } catch (err) {
      problems.push(`${field}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
      return undefined
    }
  }
  const problems: string[] = []
  if (jwt.publicKeyFile !== '') {
    const text = read('auth.jwt.publicKeyFile', jwt.publicKeyFile)
    if (text !== undefined) {
      try {
        const key = createPublicKey(text)
        const ok = key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'ed25519' ||
          (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
        if (!ok) problems.push(`auth.jwt.publicKeyFile: ${jwt.publicKeyFile} is not an RSA, P-256 or Ed25519 public key`)
      } catch {
        problems.push(`auth.jwt.publicKeyFile: ${jwt.publicKeyFile} is not a PEM public key`)
      }
    }
  }
  if (jwt.jwksFile !== '') {
    const text = read('auth.jwt.jwksFile', jwt.jwksFile)
    if (text !== undefined) {
      let keys: unknown
      try {
        keys = (JSON.parse(text) as { keys?: unknown }).keys
      } catch {
        keys = undefined
      }
      if (!Array.isArray(keys) || keys.length === 0) problems.push(`auth.jwt.jwksFile: ${jwt.jwksFile} is not a JSON Web Key Set ({"keys": [...]})`)
    }
  }
  return problems
}

function scheduleProblem (field: string, schedule: string): string | undefined {
  const { valid, errors } = validateDetailed(schedule)
  if (valid) return undefined
  const why = errors.map((e) => `${e.field}: ${e.message}`).join('; ')
  return `${field}: "${schedule}" is not a cron expression (${why}); e.g. "*/5 * * * *" or, with seconds, "*/2 * * * * *"`
}

function isValidTimeZone (zone: string): boolean {
  try {
    Intl.DateTimeFormat('en', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

function producerProblems (config: Config): string[] {
  const problems: string[] = []
  const { clock, system, feeds, feedDefaults } = config.producers
  const needTopic = (field: string, topic: string): void => {
    if (config.topics[topic] === undefined && !config.bus.allowUndeclaredTopics) {
      problems.push(`${field}: topic "${topic}" is not declared; add it under \`topics\``)
    }
  }
  const check = (problem: string | undefined): void => { if (problem !== undefined) problems.push(problem) }

  if (clock.enabled) {
    check(scheduleProblem('producers.clock.schedule', clock.schedule))
    needTopic('producers.clock.topic', clock.topic)
    for (const zone of clock.timeZones) {
      if (!isValidTimeZone(zone)) problems.push(`producers.clock.timeZones: "${zone}" is not an IANA time zone (such as Europe/Paris)`)
    }
  }
  if (system.enabled) {
    check(scheduleProblem('producers.system.schedule', system.schedule))
    needTopic('producers.system.topic', system.topic)
  }
  check(scheduleProblem('producers.feedDefaults.schedule', feedDefaults.schedule))
  const names = new Set<string>()
  feeds.forEach((feed, i) => {
    const field = `producers.feeds.${i}`
    if (names.has(feed.name)) problems.push(`${field}.name: "${feed.name}" is used by another feed; names must be unique`)
    names.add(feed.name)
    if (feed.enabled === false) return
    if (feed.schedule !== undefined) check(scheduleProblem(`${field}.schedule`, feed.schedule))
    if (!/^https?:\/\/[^\s]+$/.test(feed.url) || !URL.canParse(feed.url)) {
      problems.push(`${field}.url: "${feed.url}" is not an http(s) URL`)
    }
    needTopic(`${field}.topic`, feed.topic)
    needTopic(`${field}.topic`, feedStatusTopic(feed.topic))
    check(mixedPrivacy(config, `${field}.topic`, feed.topic))
    const base = feed.backoffBaseMs ?? feedDefaults.backoffBaseMs
    const max = feed.backoffMaxMs ?? feedDefaults.backoffMaxMs
    if (base > max) problems.push(`${field}: backoffBaseMs (${base}) is larger than backoffMaxMs (${max})`)
  })
  return problems
}

/**
 * A feed tile shows its topic and `<topic>.status` together, so both must be private or neither:
 * otherwise one topic's data would be shown to whoever may read the other.
 */
function mixedPrivacy (config: Config, field: string, topic: string): string | undefined {
  const status = feedStatusTopic(topic)
  const [a, b] = [config.topics[topic], config.topics[status]]
  if (a === undefined || b === undefined || (a.private === true) === (b.private === true)) return undefined
  const [privateOne, publicOne] = a.private === true ? [topic, status] : [status, topic]
  return `${field}: "${privateOne}" is private but "${publicOne}" is not; a feed tile shows both, so make both private or neither`
}

function dashboardProblems (config: Config): string[] {
  const problems: string[] = []
  for (const [name, dashboard] of Object.entries(config.dashboards)) {
    dashboard.tiles.forEach((tile, i) => {
      problems.push(...tileProblems(`dashboards.${name}.tiles.${i}`, tile, tile.kind ?? inferKind(tile.topic, config)))
      const field = `dashboards.${name}.tiles.${i}.topic`
      if (config.topics[tile.topic] === undefined) problems.push(`${field}: topic "${tile.topic}" is not declared; add it under \`topics\``)
      else if (config.topics[tile.topic]?.private === true) problems.push(`${field}: "${tile.topic}" is private; dashboards are public, so show only public topics`)
      else if (tile.kind === 'feed' || config.producers.feeds.some((f) => f.enabled !== false && f.topic === tile.topic)) {
        const problem = mixedPrivacy(config, field, tile.topic)
        if (problem !== undefined) problems.push(problem)
      }
    })
  }
  return problems
}
