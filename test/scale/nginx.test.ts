/**
 * Two instances behind a real nginx with the sample config of docs/nginx.conf: a browser-like
 * client (EventSource, which resumes with Last-Event-ID) survives stopping the instance that
 * served it, with nothing lost or doubled.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomUUID } from 'node:crypto'
import { Recorder, freePort, publish, startApp, waitUntil } from '../helper.ts'
import { redisMissing, startRedis } from '../redis.ts'

const NGINX = '/usr/sbin/nginx'
const SAMPLE = fileURLToPath(new URL('../../docs/nginx.conf', import.meta.url))

function nginxMissing (): string | undefined {
  if (existsSync(NGINX)) return redisMissing()
  if (process.env.CI === 'true') throw new Error('nginx is not installed (apt-get install nginx-light): CI runs every suite')
  return 'nginx is not installed (apt-get install nginx-light)'
}

/** nginx with the sample config, in front of `ports`; stopped by its PID when the test ends. */
async function startNginx (t: TestContext, ports: readonly number[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ticker-nginx-'))
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub))
  const port = await freePort()
  const sample = readFileSync(SAMPLE, 'utf8')
    .replace(/(upstream ticker \{\n)((?:\s*server [^\n]+\n)+)/, `$1${ports.map((p) => `    server 127.0.0.1:${p};\n`).join('')}`)
    .replace('listen 80;', `listen 127.0.0.1:${port};`)
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${sample}
}
`)
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' })
  t.after(async () => {
    if (child.exitCode === null) {
      const exited = once(child, 'exit')
      child.kill('SIGQUIT')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  })
  const url = `http://127.0.0.1:${port}`
  await waitUntil(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 10_000, 'nginx to proxy')
  return url
}

test('behind nginx with the sample config, a client survives the instance that served it going away', { skip: nginxMissing() }, async (t) => {
  const redis = await startRedis(t)
  const shared = { topics: { a: {}, b: {} }, server: { trustProxy: true }, bus: { backend: 'redis', redis: { url: redis.url, keyPrefix: randomUUID() } } }
  const instances = [await startApp(t, shared), await startApp(t, shared)]
  const url = await startNginx(t, instances.map((i) => i.port))
  const client = new Recorder(t, `${url}/stream?topics=a,b`, ['a', 'b'])
  await client.opened()
  const serving = await waitUntil(() => instances.find((i) => i.app.ticker.hub.size === 1), 5000, 'the instance serving it')
  const other = instances.find((i) => i !== serving)
  assert.ok(other !== undefined)

  const published: string[] = []
  for (let i = 0; i < 20; i++) published.push(await publish(url, i % 2 === 0 ? 'a' : 'b', i))
  await client.count(20)
  await serving.app.close() // its streams end; the client reconnects through nginx, with Last-Event-ID
  for (let i = 20; i < 40; i++) published.push(await publish(other.url, i % 2 === 0 ? 'a' : 'b', i))
  await client.opened(2)
  await waitUntil(() => other.app.ticker.hub.size === 1, 5000, 'the client on the other instance')
  const last = await publish(url, 'a', 'last') // anything doubled would show before it
  await client.count(41)
  assert.deepEqual(client.events.map((e) => e.id), [...published, last])
  assert.equal(client.of('reset').length, 0)
})
