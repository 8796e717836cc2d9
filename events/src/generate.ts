/**
 * Writes events/generated/ (JSON Schemas, AsyncAPI) from the catalogue and records new types in
 * the published-schema snapshot. Run: `npm run events:generate`. A test fails when outputs are stale.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { expectedReadme, extendedSnapshot, generatedDir, generatedDocuments, publishedSnapshotFile, readmeFile, readPublishedSnapshot, snapshotText } from './generate/documents.ts';

function main(): void {
  const files = generatedDocuments();
  mkdirSync(new URL('schemas/', generatedDir), { recursive: true });
  for (const stale of readdirSync(new URL('schemas/', generatedDir))) {
    if (!files.has(`schemas/${stale}`)) rmSync(new URL(`schemas/${stale}`, generatedDir));
  }
  for (const [path, content] of files) writeFileSync(new URL(path, generatedDir), content);
  mkdirSync(new URL('./', publishedSnapshotFile), { recursive: true });
  writeFileSync(publishedSnapshotFile, snapshotText(extendedSnapshot(readPublishedSnapshot())));
  writeFileSync(readmeFile, expectedReadme());
  process.stdout.write(`events: wrote ${files.size} generated documents\n`);
}

main();
