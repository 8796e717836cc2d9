import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { ClusterPki } from './certs.ts';
import type { ClusterLayout } from './layout.ts';

/** One cluster's entry in a kubeconfig: server, CA and admin token. */
export interface KubeconfigEntry {
  layout: ClusterLayout;
  pki: ClusterPki;
}

function kubeconfigDocument(entries: KubeconfigEntry[], currentContext: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': currentContext,
    clusters: entries.map(({ layout, pki }) => ({
      name: layout.name,
      cluster: {
        server: layout.server,
        'certificate-authority-data': readFileSync(pki.caCert).toString('base64'),
      },
    })),
    users: entries.map(({ layout, pki }) => ({ name: `${layout.name}-admin`, user: { token: pki.adminToken } })),
    contexts: entries.map(({ layout }) => ({
      name: layout.name,
      context: { cluster: layout.name, user: `${layout.name}-admin`, namespace: 'default' },
    })),
  };
}

/** Writes a kubeconfig with one context per cluster, named after the cluster; the first is current. */
export function writeKubeconfig(path: string, entries: KubeconfigEntry[]): void {
  const first = entries[0];
  if (!first) throw new Error('kubernetes: a kubeconfig needs at least one cluster');
  writeFileSync(path, stringify(kubeconfigDocument(entries, first.layout.name)), { mode: 0o600 });
}
