import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ClusterPki } from './certs.ts';

/** A response status and body. */
export interface ProbeResponse {
  status: number;
  body: string;
}

/** GET over HTTP(S) with a short timeout; `ca` pins the server's CA, `insecure` accepts any certificate. */
export function httpGet(
  url: string,
  opts: { ca?: string; token?: string; insecure?: boolean; timeoutMs?: number } = {},
): Promise<ProbeResponse> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'GET',
        timeout: opts.timeoutMs ?? 3000,
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        ...(target.protocol === 'https:' ? { ca: opts.ca, rejectUnauthorized: !opts.insecure } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout GET ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

/** True when the API server answers /readyz with 200 for the admin token. */
export async function apiserverReady(server: string, pki: ClusterPki): Promise<boolean> {
  const response = await httpGet(`${server}/readyz`, { ca: readFileSync(pki.caCert, 'utf8'), token: pki.adminToken });
  return response.status === 200;
}

/** True when an HTTP(S) health endpoint answers 200 (self-signed serving certs accepted). */
export async function healthy(url: string): Promise<boolean> {
  const response = await httpGet(url, { insecure: true });
  return response.status === 200;
}

/** Count of nodes whose Ready condition is True, as the admin sees them. */
export async function readyNodeCount(server: string, pki: ClusterPki): Promise<number> {
  const response = await httpGet(`${server}/api/v1/nodes`, { ca: readFileSync(pki.caCert, 'utf8'), token: pki.adminToken });
  if (response.status !== 200) return 0;
  const list = JSON.parse(response.body) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] };
  return list.items.filter((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
}
