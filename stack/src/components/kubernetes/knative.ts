import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { cacheDirFor } from '../../paths.ts';
import { versions } from '../../versions.ts';
import { goModDownload } from '../../go.ts';

/** Knative 1.N is Go module version v0.(N+27); each CRD file is taken from its module zip. */
const crdSources = [
  { module: 'knative.dev/serving', version: versions.knativeServing, files: ['config/core/300-resources/service.yaml'] },
  {
    module: 'knative.dev/eventing',
    version: versions.knativeEventing,
    files: ['config/core/resources/broker.yaml', 'config/core/resources/trigger.yaml'],
  },
  {
    module: 'knative.dev/eventing-kafka-broker',
    version: versions.knativeEventingKafkaBroker,
    // The eventing-kafka-source/ copies are symlinks, which module zips omit.
    files: [
      'control-plane/config/eventing-kafka-broker/100-source/100-kafka-source.yaml',
      'control-plane/config/eventing-kafka-broker/100-sink/100-kafka-sink.yaml',
    ],
  },
];

const cacheDir = cacheDirFor(
  'knative-crds',
  [versions.knativeServing, versions.knativeEventing, versions.knativeEventingKafkaBroker].join('-'),
);

/** All Knative CRDs the clusters get, in one multi-document file. */
export const knativeCrdsPath = join(cacheDir, 'crds.yaml');

/** Names of the CRDs in the file, for waiting on Established. */
export const knativeCrdNamesPath = join(cacheDir, 'crd-names.txt');

interface CrdObject {
  kind?: string;
  metadata?: { name?: string };
  spec?: Record<string, unknown>;
}

/**
 * Only the CRD itself: the conversion webhook (KafkaSource) points at a Knative service that does not
 * run here, so it is stripped and the API server serves the stored version as is.
 */
function crdsOf(text: string, source: string): CrdObject[] {
  const crds: CrdObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`knative: cannot parse ${source}: ${document.errors[0]?.message}`);
    const object = document.toJSON() as CrdObject | null;
    if (object?.kind !== 'CustomResourceDefinition') continue;
    if (object.spec) delete object.spec.conversion;
    crds.push(object);
  }
  return crds;
}

/** Downloads the Knative modules (download only) and writes the stripped CRDs; skips when cached. */
export async function ensureKnativeCrds(): Promise<void> {
  if (existsSync(knativeCrdsPath) && existsSync(knativeCrdNamesPath)) return;
  mkdirSync(cacheDir, { recursive: true });
  const crds: CrdObject[] = [];
  for (const source of crdSources) {
    const downloaded = await goModDownload(source.module, source.version, cacheDir);
    for (const file of source.files) {
      crds.push(...crdsOf(readFileSync(join(downloaded.Dir, file), 'utf8'), `${source.module}@${source.version}/${file}`));
    }
  }
  const names = crds.map((crd) => crd.metadata?.name ?? '');
  if (names.length !== 5 || names.includes('')) throw new Error(`knative: expected 5 named CRDs, found ${names.join(', ')}`);
  writeFileSync(knativeCrdsPath, crds.map((crd) => stringify(crd)).join('---\n'));
  writeFileSync(knativeCrdNamesPath, `${names.join('\n')}\n`);
}

/** The CRD names written by ensureKnativeCrds. */
export function knativeCrdNames(): string[] {
  return readFileSync(knativeCrdNamesPath, 'utf8').split('\n').filter(Boolean);
}
