/**
 * Baseline: nginx with Debian's nchan module (libnginx-mod-nchan), from a generated config on a
 * loopback port with its own prefix directory; one worker process, like one Node process.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Started } from '../lib/processes.ts'
import { freePort } from '../../test/helper.ts'

export const NGINX = '/usr/sbin/nginx'
const NCHAN_MODULE = '/usr/share/nginx/modules/ngx_nchan_module.so'

export function nchanAvailable (): boolean {
  return existsSync(NGINX) && existsSync(NCHAN_MODULE)
}

/** nginx + nchan: GET /stream (EventSource) and POST /pub on channel "bench". */
export async function startNchan (bufferLength = 1000): Promise<Started> {
  if (!nchanAvailable()) throw new Error('nginx with nchan is not installed (apt-get install nginx-light libnginx-mod-nchan)')
  const dir = mkdtempSync(join(tmpdir(), 'ticker-nchan-'))
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub))
  const port = await freePort()
  writeFileSync(join(dir, 'nginx.conf'), `
load_module ${NCHAN_MODULE};
worker_processes 1;
worker_rlimit_nofile 60000;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 50000; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = /ready { return 200 "ok"; }
    location = /pub {
      nchan_publisher;
      nchan_channel_id bench;
      nchan_message_buffer_length ${bufferLength};
    }
    location = /stream {
      nchan_subscriber eventsource;
      nchan_channel_id bench;
    }
  }
}
`)
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'inherit', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    const ready = await fetch(`${url}/ready`).then((r) => r.ok, () => false)
    if (ready) break
    if (i > 100 || child.exitCode !== null) throw new Error(`nginx did not start; see ${dir}/error.log`)
    await sleep(50)
  }
  return {
    child,
    url,
    async stop () {
      if (child.exitCode === null) child.kill('SIGQUIT') // graceful: the master stops its worker
      await exited
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
