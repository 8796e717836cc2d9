/**
 * What a pod of a function's Knative Service would see, reproduced on this machine from the built
 * manifests: its env (literal values, the shared ConfigMap, Secret keys supplied by the test) and its
 * volumes materialised under a private root (ConfigMap items written to their paths, Secrets as given),
 * with env values that point into a mount rewritten to that root.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KubeObject } from './kubectl.ts';

interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }
interface Container { env?: EnvVar[]; envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[]; volumeMounts?: { name: string; mountPath: string }[] }
interface Volume { name: string; configMap?: { name: string; items?: { key: string; path: string }[] }; secret?: { secretName: string; items?: { key: string; path: string }[]; optional?: boolean } }
interface PodSpec { containers: Container[]; volumes?: Volume[] }

/** Secret contents the test supplies, by Secret name then key (never read from a cluster). */
export type Secrets = Readonly<Record<string, Readonly<Record<string, string>>>>;

function podSpec(ksvc: KubeObject): PodSpec {
  return (ksvc['spec'] as { template: { spec: PodSpec } }).template.spec;
}

function configMapData(built: readonly KubeObject[], name: string): Record<string, string> {
  const map = built.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
  if (!map) throw new Error(`ConfigMap ${name} is not in the build`);
  return (map['data'] as Record<string, string> | undefined) ?? {};
}

function secretData(secrets: Secrets, name: string): Readonly<Record<string, string>> {
  const secret = secrets[name];
  if (!secret) throw new Error(`the manifest needs Secret ${name}; the test must supply it`);
  return secret;
}

/** Writes every volume of the pod under `root`; returns the mount paths. */
function materialiseVolumes(built: readonly KubeObject[], spec: PodSpec, root: string, secrets: Secrets): string[] {
  const container = spec.containers[0];
  const mounts: string[] = [];
  for (const mount of container?.volumeMounts ?? []) {
    const volume = spec.volumes?.find((v) => v.name === mount.name);
    const dir = join(root, mount.mountPath);
    mkdirSync(dir, { recursive: true });
    mounts.push(mount.mountPath);
    if (volume?.configMap) {
      const data = configMapData(built, volume.configMap.name);
      const items = volume.configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const item of items) writeFile(join(dir, item.path), data[item.key] ?? '');
    } else if (volume?.secret) {
      // An optional Secret the test does not supply is absent, as in a pod; `items` pick and rename keys.
      if (volume.secret.optional && !secrets[volume.secret.secretName]) continue;
      const data = secretData(secrets, volume.secret.secretName);
      const items = volume.secret.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const item of items) if (data[item.key] !== undefined) writeFile(join(dir, item.path), data[item.key] ?? '');
    }
  }
  return mounts;
}

function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** The pod env of `ksvc`, with mounts materialised under `root` and `configOverrides` applied to the ConfigMap. */
export function podEnvironment(
  built: readonly KubeObject[], ksvc: KubeObject, root: string, secrets: Secrets, configOverrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const spec = podSpec(ksvc);
  const container = spec.containers[0];
  const mounts = materialiseVolumes(built, spec, root, secrets);
  const env: Record<string, string> = {};
  for (const from of container?.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, configMapData(built, from.configMapRef.name), configOverrides);
    if (from.secretRef) Object.assign(env, secretData(secrets, from.secretRef.name));
  }
  for (const variable of container?.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    // An optional key (or Secret) that is missing leaves the variable unset, as Kubernetes does.
    const value = ref ? (ref.optional && !secrets[ref.name] ? undefined : secretData(secrets, ref.name)[ref.key]) : variable.value;
    if (value === undefined && ref?.optional) continue;
    if (value === undefined) throw new Error(`env ${variable.name} has no value`);
    env[variable.name] = value;
  }
  for (const [name, value] of Object.entries(env)) {
    if (mounts.some((mount) => mount === value || mount.startsWith(`${value}/`) || value.startsWith(`${mount}/`))) env[name] = join(root, value);
  }
  return env;
}
