import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDirFor } from '../../paths.ts';
import { versions } from '../../versions.ts';
import { goModDownload } from '../../go.ts';
import { failLabel } from './layout.ts';

/** Stage files of kwok's module (kustomize/stage/...), v0.8.0 has no built-in stages. */
const shippedStages = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'pod/fast/pod-ready.yaml',
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
  // Pods labelled pod-container-running-failed.stage.kwok.x-k8s.io=true turn Failed after ~1 s.
  'pod/chaos/pod-container-running-failed.yaml',
];

/** Image tags ending in this make pods that never become Ready: "a target image whose pods fail". */
export const failImageSuffix = '-fail';

/**
 * Pods whose labels carry upshift.dev/fail=true, or that run an image whose tag ends in -fail, start
 * Running but never become Ready, so a Deployment rolling them out never becomes Available and reports
 * ProgressDeadlineExceeded. Its weight beats pod-ready (weight 1) for such pods.
 */
export const neverReadyStage = [
  neverReady('upshift-pod-never-ready', `- key: '.metadata.labels["${failLabel}"]'
      operator: 'In'
      values:
      - 'true'`),
  neverReady('upshift-image-never-ready', `- key: '.spec.containers.[] | select(.image | endswith("${failImageSuffix}")) | .name'
      operator: 'Exists'`),
].join('\n---\n');

function neverReady(name: string, match: string): string {
  return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ${name}
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    ${match}
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Pending'
  weight: 10000
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        reason: ContainersNotReady
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        reason: ContainersNotReady
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        started: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
      phase: Running
      startTime: {{ $now | Quote }}
`;
}

/** kwok's --config: its shipped stages plus ours; the name changes whenever the stage list or our stage does. */
export const kwokConfigPath = join(
  cacheDirFor('kwok', versions.kwok),
  `kwok-stages-${createHash('sha256').update(shippedStages.join('\n')).update(neverReadyStage).digest('hex').slice(0, 12)}.yaml`,
);

/** Writes kwok's stage config from its module in the Go module cache; skips when it exists. */
export async function ensureKwokConfig(): Promise<void> {
  if (existsSync(kwokConfigPath)) return;
  const kwokModule = await goModDownload('sigs.k8s.io/kwok', versions.kwok, cacheDirFor('kwok', versions.kwok));
  const documents = shippedStages.map((file) => readFileSync(join(kwokModule.Dir, 'kustomize', 'stage', file), 'utf8').trim());
  documents.push(neverReadyStage.trim());
  writeFileSync(kwokConfigPath, `${documents.join('\n---\n')}\n`);
}
