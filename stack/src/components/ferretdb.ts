import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { Component, ComponentStatus } from '../component.ts';
import { cacheDirFor, runDirFor } from '../paths.ts';
import { assertPortsFree, daemonStatus, logFile, runningPid, startDaemon, stopDaemon, waitUntil } from '../process.ts';
import { run } from '../run.ts';
import { ports, versions } from '../versions.ts';
import { goEnv, goModDownload } from '../go.ts';

const name = 'ferretdb';
const modulePath = 'github.com/FerretDB/FerretDB';
/** Names the local patches (see `patchFerretdb`); a new patch set gets a new cache folder and a rebuild. */
const patchLevel = 'upshift3';
const cacheDir = cacheDirFor(name, `${versions.ferretdb}-${patchLevel}`);
const binary = join(cacheDir, 'bin', 'ferretdb');
const runDir = runDirFor(name);
const dataDir = join(runDir, 'data');
const stateDir = join(runDir, 'state');
const url = `mongodb://127.0.0.1:${ports.ferretdb}/`;

/**
 * FerretDB 1.x with its SQLite backend: a pure-Go server speaking the MongoDB wire protocol,
 * built from the Go module proxy. Real MongoDB is used instead when MONGODB_URL is set.
 */
export const ferretdb: Component = {
  name,
  version: versions.ferretdb,
  externalEnv: 'MONGODB_URL',

  async install() {
    if (existsSync(binary)) return;
    await buildFerretdb();
  },

  async start() {
    if (runningPid(runDir, name)) return;
    await assertPortsFree(name, [ports.ferretdb]);
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(stateDir, { recursive: true });
    startDaemon({
      name,
      runDir,
      command: binary,
      args: [
        '--handler=sqlite',
        // FerretDB wants an existing directory, given as a file: URL ending in a slash.
        `--sqlite-url=file:${dataDir}/`,
        `--listen-addr=127.0.0.1:${ports.ferretdb}`,
        `--state-dir=${stateDir}`,
        '--debug-addr=-',
        '--log-level=info',
      ],
      env: { FERRETDB_TELEMETRY: 'disable' },
    });
    await waitUntil(name, canPing, { timeoutMs: 60_000, log: logFile(runDir, name), daemon: { runDir, name } });
  },

  async stop() {
    await stopDaemon(runDir, name);
  },

  async status(): Promise<ComponentStatus[]> {
    return [await daemonStatus({ name, version: versions.ferretdb, runDir, endpoints: { url }, probe: canPing, details: { backend: 'sqlite', dataDir } })];
  },

  env() {
    return { MONGODB_URL: url };
  },
};

/**
 * Builds cmd/ferretdb in a wrapper module whose replace directive points at a copy of FerretDB's
 * module with build/version/version.txt filled in. FerretDB panics at start without that file,
 * both when built with `go install …@version` and from a plain wrapper module.
 */
async function buildFerretdb(): Promise<void> {
  const srcDir = join(cacheDir, 'src');
  const moduleCopy = join(srcDir, 'ferretdb-module');
  const logTo = join(cacheDir, 'build.log');
  const step = (what: string, args: string[]) => run('go', args, { cwd: srcDir, env: goEnv, logTo, what: `ferretdb: ${what}` });
  rmSync(srcDir, { recursive: true, force: true });
  mkdirSync(srcDir, { recursive: true });
  await step('creating the wrapper module', ['mod', 'init', 'upshift.local/ferretdb-build']);
  const upstream = await goModDownload(modulePath, versions.ferretdb, srcDir);
  copyWritable(upstream.Dir, moduleCopy);
  writeFileSync(join(moduleCopy, 'build', 'version', 'version.txt'), `${versions.ferretdb}\n`);
  patchFerretdb(moduleCopy);
  copyFileSync(join(moduleCopy, 'go.sum'), join(srcDir, 'go.sum'));
  await step('pinning the module', [
    'mod', 'edit', `-require=${modulePath}@${versions.ferretdb}`, `-replace=${modulePath}=./ferretdb-module`,
  ]);
  await step(`fetching the dependencies of ${modulePath} ${versions.ferretdb}`, ['get', `${modulePath}/cmd/ferretdb@${versions.ferretdb}`]);
  // Build next to the target and rename, so an interrupted build never leaves a half-written binary.
  await step(`building ferretdb ${versions.ferretdb}`, ['build', '-trimpath', '-o', `${binary}.tmp`, `${modulePath}/cmd/ferretdb`]);
  renameSync(`${binary}.tmp`, binary);
}

/**
 * Three local fixes to FerretDB 1.24, each measured here; none changes what a command returns.
 *
 * 1. Its SQLite backend looks documents up by `_sjson->'$._id'`, while the `_id` index it
 * creates covers `_sjson->"_id"`: the same value, a different expression, so SQLite never uses the
 * index and every update by `_id` scans the whole table (measured: 59 ms per updateOne at 20k
 * documents, 1.3 ms after this patch). The patch spells the lookup like the index, and lets a filter
 * with `_id` and other fields push the `_id` part down too (the handler still applies the whole filter
 * to what comes back, so results are unchanged).
 * 2. An `update` command keeps every statement's read cursor (a pooled SQLite connection) open until
 * the whole command ends; the pool holds 100 connections, so the 100th statement waits for a
 * connection forever and every later request queues behind it: the server hangs (measured: 99
 * statements answer, 100 never do). The patch closes each statement's cursor once it is applied.
 *
 * 3. An update reads the document, changes it in Go and writes the whole document back, with nothing
 * in between held: two updates of one document at the same moment can both read the old version, and
 * the second write silently undoes the first (measured: 283–307 of 800 concurrent `$inc` on 4 documents
 * lost; that loses application writes, and breaks every compare-and-set a client builds on update
 * filters, upshift's included). The patch makes each statement's read-modify-write of `update` and
 * `findAndModify` one critical section (one process-wide mutex; the SQLite backend has one writer at a
 * time anyway). Measured after: 800 of 800 `$inc` kept.
 *
 * Each edit must apply exactly once, so a version bump that moves the code fails the build instead of
 * silently dropping the patch.
 */
function patchFerretdb(moduleDir: string): void {
  const sqlite = join(moduleDir, 'internal', 'backends', 'sqlite');
  replaceExactly(join(sqlite, 'metadata', 'metadata.go'), `IDColumn = DefaultColumn + "->'$._id'"`, 'IDColumn = DefaultColumn + `->"_id"`', 1);
  replaceExactly(join(sqlite, 'collection.go'), '\tif params.Filter.Len() == 1 {\n\t\tv, _ := params.Filter.Get("_id")', '\tif params.Filter.Len() >= 1 {\n\t\tv, _ := params.Filter.Get("_id")', 2);
  const update = join(moduleDir, 'internal', 'handler', 'msg_update.go');
  replaceExactly(update, '\t\tcloser := iterator.NewMultiCloser()\n\t\tdefer closer.Close()\n', '\t\tcloser := iterator.NewMultiCloser()\n', 1);
  replaceExactly(update, '\t\tresult, err := common.UpdateDocument(ctx, c, "update", iter, &u)\n', '\t\tresult, err := common.UpdateDocument(ctx, c, "update", iter, &u)\n\t\tcloser.Close()\n\t\tdocumentUpdates.Unlock()\n', 1);
  replaceExactly(update, '\t"context"\n\t"fmt"\n', '\t"context"\n\t"fmt"\n\t"sync"\n', 1);
  replaceExactly(update, '// MsgUpdate implements `update` command.', '// documentUpdates makes each read-modify-write of a document atomic against the others (upshift patch).\nvar documentUpdates sync.Mutex\n\n// MsgUpdate implements `update` command.', 1);
  replaceExactly(update, '\t\tres, err := c.Query(ctx, &qp)\n\t\tif err != nil {\n\t\t\treturn 0, 0, nil, lazyerrors.Error(err)\n\t\t}\n',
    '\t\tdocumentUpdates.Lock()\n\t\tres, err := c.Query(ctx, &qp)\n\t\tif err != nil {\n\t\t\tdocumentUpdates.Unlock()\n\t\t\treturn 0, 0, nil, lazyerrors.Error(err)\n\t\t}\n', 1);
  replaceExactly(join(moduleDir, 'internal', 'handler', 'msg_findandmodify.go'), '\tqueryRes, err := c.Query(ctx, &qp)\n',
    '\tdocumentUpdates.Lock()\n\tdefer documentUpdates.Unlock()\n\n\tqueryRes, err := c.Query(ctx, &qp)\n', 1);
}

function replaceExactly(file: string, from: string, to: string, times: number): void {
  const text = readFileSync(file, 'utf8');
  const found = text.split(from).length - 1;
  if (found !== times) throw new Error(`ferretdb: patching ${file}: expected ${times} occurrence(s) of ${JSON.stringify(from)}, found ${found}`);
  writeFileSync(file, text.replaceAll(from, to));
}

/** Copies a (read-only) module cache directory and makes the copy writable, so it can be edited and removed. */
function copyWritable(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  const walk = (dir: string): void => {
    chmodSync(dir, 0o755);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else chmodSync(path, 0o644);
    }
  };
  walk(to);
}

async function canPing(): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
  try {
    await client.connect();
    const reply = await client.db('admin').command({ ping: 1 });
    return reply.ok === 1;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}
