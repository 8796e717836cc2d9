/**
 * Who may connect to the functions' pods: only the Knative data plane that delivers their events. A
 * KafkaSource dispatcher posts to a function's cluster-local URL, which Knative Serving routes through
 * the cluster-local gateway of the networking layer and, while a revision scales, its activator; the
 * autoscaler scrapes each pod's queue-proxy. So the policy admits exactly those pods, by namespace
 * (install.yaml `dataPlane`) and, where Knative labels them, by pod; every other pod is refused.
 */
import type { InstallSettings } from './install.ts';
import { labelsOf } from './service.ts';

/** The label Kubernetes puts on every namespace with its own name (stable since 1.22). */
const namespaceName = 'kubernetes.io/metadata.name';

/** The KafkaSource dispatcher pods of eventing-kafka-broker (`app: kafka-source-dispatcher`). */
export const DISPATCHER_POD_LABELS = { app: 'kafka-source-dispatcher' } as const;
/** Knative Serving's pods on a request's path: the activator (proxies while scaling) and the autoscaler (scrapes metrics). */
export const SERVING_DATA_PLANE_APPS = ['activator', 'autoscaler'] as const;

/** The networking.k8s.io/v1 NetworkPolicy admitting only the Knative data plane to every function pod. */
export function functionsIngressPolicy(dataPlane: InstallSettings['dataPlane']) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'upshift-functions-ingress', labels: labelsOf('network-policy') },
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'upshift' } },
      policyTypes: ['Ingress'],
      ingress: [{
        from: [
          { namespaceSelector: { matchLabels: { [namespaceName]: dataPlane.eventingNamespace } }, podSelector: { matchLabels: { ...DISPATCHER_POD_LABELS } } },
          {
            namespaceSelector: { matchLabels: { [namespaceName]: dataPlane.servingNamespace } },
            podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [...SERVING_DATA_PLANE_APPS] }] },
          },
          { namespaceSelector: { matchLabels: { [namespaceName]: dataPlane.ingressNamespace } } },
        ],
      }],
    },
  };
}
