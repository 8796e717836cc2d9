import type { ComponentStatus } from './component.ts';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A long-running server process started by the stack, tracked by a pid file in its run dir. */
export interface DaemonSpec {
  /** Unique name; the pid file and log file are named after it. */
  name: string;
  command: string;
  args: string[];
  runDir: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Run the command as this user (through runuser), e.g. postgres, which refuses root. */
  user?: string;
}

/** The log file a daemon writes stdout and stderr to. */
export function logFile(runDir: string, name: string): string {
  return join(runDir, `${name}.log`);
}

function pidFile(runDir: string, name: string): string {
  return join(runDir, `${name}.pid`);
}

/**
 * The pid recorded for a daemon if that process is still alive, else undefined. The pid file also holds
 * the process's start time, so a pid reused by another process after a reboot or a stale run dir is not
 * taken for the daemon.
 */
export function runningPid(runDir: string, name: string): number | undefined {
  const file = pidFile(runDir, name);
  if (!existsSync(file)) return undefined;
  const [pidText, started] = readFileSync(file, 'utf8').trim().split(/\s+/);
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (started !== undefined && startTime(pid) !== started) return undefined;
  return isAlive(pid) ? pid : undefined;
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function startTime(pid: number): string | undefined {
  const stat = safeRead(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/**
 * Alive: some thread of the process has not exited. An exited child that nobody reaped still answers
 * kill(pid, 0) as a zombie, and a Go server's main thread can show as a zombie while its other threads
 * (and its listening sockets) are still shutting down, so every thread is looked at.
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const tasks = safeReaddir(`/proc/${pid}/task`);
  if (tasks.length === 0) return true;
  return tasks.some((task) => {
    const stat = safeRead(`/proc/${pid}/task/${task}/stat`);
    if (stat === undefined) return false;
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  });
}

/** Starts a detached daemon (its own process group) logging to <runDir>/<name>.log; no-op if already running. */
export function startDaemon(spec: DaemonSpec): number {
  const existing = runningPid(spec.runDir, spec.name);
  if (existing) return existing;
  mkdirSync(spec.runDir, { recursive: true });
  const out = openSync(logFile(spec.runDir, spec.name), 'a');
  const [command, args] = spec.user
    ? ['runuser', ['-u', spec.user, '--', spec.command, ...spec.args]]
    : [spec.command, spec.args];
  const child = spawn(command, args, {
    cwd: spec.cwd ?? spec.runDir,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${spec.command}`);
  child.unref();
  writeFileSync(pidFile(spec.runDir, spec.name), `${child.pid} ${startTime(child.pid) ?? ''}`.trim());
  return child.pid;
}

/** Stops a daemon's process group: SIGTERM (or the given signal), then SIGKILL after the grace period. Idempotent. */
export async function stopDaemon(
  runDir: string,
  name: string,
  opts: { graceMs?: number; signal?: NodeJS.Signals } = {},
): Promise<void> {
  const graceMs = opts.graceMs ?? 15_000;
  const pid = runningPid(runDir, name);
  if (pid) {
    signalGroup(pid, opts.signal ?? 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile(runDir, name), { force: true });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Fails with a message naming the port and component when a port we are about to bind is taken. */
export async function assertPortsFree(component: string, portList: number[]): Promise<void> {
  for (const port of portList) {
    if (await portOpen(port)) {
      throw new Error(
        `${component}: port ${port} on 127.0.0.1 is already in use by another process; stop it or set UPSHIFT_PORT_OFFSET`,
      );
    }
  }
}

/** Polls a readiness probe until it says yes, or fails naming the component and its log. */
export async function waitUntil(
  component: string,
  probe: () => Promise<boolean>,
  opts: { timeoutMs: number; log: string; daemon?: { runDir: string; name: string } },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (opts.daemon && !runningPid(opts.daemon.runDir, opts.daemon.name)) {
      throw new Error(`${component}: process exited before becoming ready; see ${opts.log}\n${tail(opts.log)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${component}: not ready after ${opts.timeoutMs / 1000}s; see ${opts.log}\n${tail(opts.log)}`);
    }
    await sleep(250);
  }
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log yet)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

/** Resident memory in MiB of a process and every process in its group (a server and its workers). */
export function groupRssMiB(pids: number[]): number {
  let kib = 0;
  const groups = new Set(pids);
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = safeRead(`/proc/${entry}/stat`);
    if (!stat) continue;
    // Fields after the command name "(...)": state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    if (!groups.has(Number(entry)) && !groups.has(pgrp)) continue;
    const match = /VmRSS:\s+(\d+)/.exec(safeRead(`/proc/${entry}/status`) ?? '');
    if (match?.[1]) kib += Number(match[1]);
  }
  return Math.round(kib / 1024);
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeRead(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The status row of a component that is one daemon: stopped, not ready (running, probe fails) or ready. */
export async function daemonStatus(row: {
  name: string;
  version: string;
  runDir: string;
  endpoints: Record<string, string>;
  probe: () => Promise<boolean>;
  details?: Record<string, unknown>;
}): Promise<ComponentStatus> {
  const pid = runningPid(row.runDir, row.name);
  const ready = pid ? await row.probe() : false;
  return {
    name: row.name,
    version: row.version,
    state: ready ? 'ready' : pid ? 'not-ready' : 'stopped',
    endpoints: row.endpoints,
    pids: pid ? [pid] : [],
    ...(pid ? { rssMiB: groupRssMiB([pid]) } : {}),
    log: logFile(row.runDir, row.name),
    ...(row.details ? { details: row.details } : {}),
  };
}
