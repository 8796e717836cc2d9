/**
 * Who may do what on the dashboard (pure): whether controls are on at all, whether a request carries the
 * token, and whether it comes from the dashboard's own page (Host and Origin), so another site open in
 * the same browser cannot press a button (CSRF) nor reach a loopback-only dashboard by DNS rebinding.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** How the dashboard was started, as far as access goes. */
export interface AccessSettings {
  /** `--read-only`: controls hidden and refused. */
  readonly readOnly: boolean;
  /** UPSHIFT_DASHBOARD_TOKEN: controls need `Authorization: Bearer <token>`. */
  readonly token: string | undefined;
  /** `--no-auth`: controls without a token (local use; refused unless listening on loopback). */
  readonly noAuth: boolean;
}

/** Whether controls are on, and if not, why (shown on the page instead of the buttons). */
export type ControlAccess =
  | { readonly enabled: true; readonly needsToken: boolean }
  | { readonly enabled: false; readonly reason: string };

/** Controls are off when read-only, on with a token, on without one only when --no-auth says so. */
export function controlAccess(settings: AccessSettings): ControlAccess {
  if (settings.readOnly) return { enabled: false, reason: 'read-only dashboard (--read-only)' };
  if (settings.token) return { enabled: true, needsToken: true };
  if (settings.noAuth) return { enabled: true, needsToken: false };
  return { enabled: false, reason: 'controls are off: set UPSHIFT_DASHBOARD_TOKEN (or pass --no-auth for local use)' };
}

/** Why a control request is refused (with its HTTP status), or undefined when it may go on. */
export interface Refusal {
  readonly status: 401 | 403;
  readonly message: string;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Whether `authorization` (the header) carries the token; compared in constant time. */
export function hasToken(token: string, authorization: string | undefined): boolean {
  const match = /^Bearer (.+)$/.exec(authorization ?? '');
  if (!match?.[1]) return false;
  return timingSafeEqual(digest(match[1]), digest(token));
}

/** The refusal of a control request under `settings`, or undefined. */
export function refuseControl(settings: AccessSettings, authorization: string | undefined): Refusal | undefined {
  const access = controlAccess(settings);
  if (!access.enabled) return { status: 403, message: access.reason };
  if (access.needsToken && !hasToken(settings.token ?? '', authorization)) return { status: 401, message: 'a valid dashboard token is needed for controls' };
  return undefined;
}

/** Whether `host` names the loopback interface. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * The Host headers a request may carry: listening on loopback, only the loopback names with the port
 * (a DNS-rebound name is refused); listening on another address, any (the cluster's ingress and auth
 * decide who gets here).
 */
export function allowedHosts(listenHost: string, port: number): ReadonlySet<string> | 'any' {
  if (!isLoopback(listenHost)) return 'any';
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, ...(listenHost.startsWith('127.') ? [`${listenHost}:${port}`] : [])]);
}

/** Whether a request's Host header is one the dashboard answers. */
export function hostAllowed(allowed: ReadonlySet<string> | 'any', host: string | undefined): boolean {
  return allowed === 'any' || (host !== undefined && allowed.has(host.toLowerCase()));
}

/**
 * Whether a state-changing request comes from the dashboard's own page: a browser names the page's
 * origin (Origin, Sec-Fetch-Site); a script outside a browser (curl with the token) sends neither.
 */
export function sameOrigin(headers: { readonly host?: string; readonly origin?: string; readonly secFetchSite?: string }): boolean {
  if (headers.secFetchSite !== undefined && headers.secFetchSite !== 'same-origin' && headers.secFetchSite !== 'none') return false;
  if (headers.origin === undefined) return true;
  try {
    return new URL(headers.origin).host === headers.host?.toLowerCase();
  } catch {
    return false;
  }
}
