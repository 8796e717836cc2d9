import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClusterLayout } from './layout.ts';

const execFileAsync = promisify(execFile);

/** The key material of one cluster, all under its pki folder. */
export interface ClusterPki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  adminToken: string;
}

/** Paths of a cluster's pki files (the token is read when it exists). */
function pkiPaths(layout: ClusterLayout): Omit<ClusterPki, 'adminToken'> {
  const file = (name: string) => join(layout.pkiDir, name);
  return {
    caCert: file('ca.crt'),
    caKey: file('ca.key'),
    servingCert: file('apiserver.crt'),
    servingKey: file('apiserver.key'),
    serviceAccountKey: file('sa.key'),
    serviceAccountPub: file('sa.pub'),
  };
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`kubernetes: openssl ${args[0]} failed: ${stderr}`);
  }
}

const servingNames = [
  'IP:127.0.0.1',
  'IP:10.96.0.1',
  'DNS:localhost',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
];

/** Self-signed CA, an apiserver serving cert for 127.0.0.1 signed by it, and a service-account key pair. */
async function generateKeys(layout: ClusterLayout, paths: Omit<ClusterPki, 'adminToken'>): Promise<void> {
  const cwd = layout.pkiDir;
  await openssl(['genrsa', '-out', paths.caKey, '2048'], cwd);
  await openssl(['req', '-x509', '-new', '-key', paths.caKey, '-subj', `/CN=${layout.name}-ca`, '-days', '3650', '-out', paths.caCert], cwd);
  await openssl(['genrsa', '-out', paths.servingKey, '2048'], cwd);
  const extensions = join(cwd, 'apiserver.ext');
  writeFileSync(
    extensions,
    `subjectAltName=${servingNames.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`,
  );
  const csr = join(cwd, 'apiserver.csr');
  await openssl(['req', '-new', '-key', paths.servingKey, '-subj', '/CN=kube-apiserver', '-out', csr], cwd);
  await openssl(
    ['x509', '-req', '-in', csr, '-CA', paths.caCert, '-CAkey', paths.caKey, '-CAcreateserial', '-days', '3650',
      '-extfile', extensions, '-out', paths.servingCert],
    cwd,
  );
  await openssl(['genrsa', '-out', paths.serviceAccountKey, '2048'], cwd);
  await openssl(['rsa', '-in', paths.serviceAccountKey, '-pubout', '-out', paths.serviceAccountPub], cwd);
}

/** The admin bearer token, in the apiserver's static token file as a member of system:masters. */
function ensureAdminToken(layout: ClusterLayout): string {
  if (!existsSync(layout.tokenFile)) {
    const token = randomBytes(24).toString('hex');
    writeFileSync(layout.tokenFile, `${token},${layout.name}-admin,${layout.name}-admin,"system:masters"\n`, { mode: 0o600 });
  }
  const token = readFileSync(layout.tokenFile, 'utf8').split(',')[0];
  if (!token) throw new Error(`kubernetes: ${layout.tokenFile} has no token`);
  return token;
}

/** Creates the cluster's keys and admin token once; later calls reuse them. */
export async function ensurePki(layout: ClusterLayout): Promise<ClusterPki> {
  mkdirSync(layout.pkiDir, { recursive: true, mode: 0o700 });
  const paths = pkiPaths(layout);
  if (!Object.values(paths).every((file) => existsSync(file))) await generateKeys(layout, paths);
  return { ...paths, adminToken: ensureAdminToken(layout) };
}

/** The existing pki of a cluster, or undefined before the first start. */
export function readPki(layout: ClusterLayout): ClusterPki | undefined {
  const paths = pkiPaths(layout);
  if (!existsSync(layout.tokenFile) || !existsSync(paths.caCert)) return undefined;
  const token = readFileSync(layout.tokenFile, 'utf8').split(',')[0];
  return token ? { ...paths, adminToken: token } : undefined;
}
