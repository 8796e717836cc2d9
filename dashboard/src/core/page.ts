/**
 * The page shell and the headers of every response (pure). The shell holds no data at all: the page
 * fetches JSON and renders every value as a text node (preact escapes text; nothing uses raw HTML), and a
 * strict Content-Security-Policy allows only the dashboard's own scripts, styles and connections — the one
 * inline script is the import map, allowed by its hash.
 */
import { createHash } from 'node:crypto';

/** The HTML every page path answers with (the page routes on its own path). */
export function pageShell(importMap: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>upshift dashboard</title>
<link rel="stylesheet" href="/vendor/uplot.css">
<link rel="stylesheet" href="/static/style.css">
<script type="importmap">${importMap}</script>
<script type="module" src="/static/app.js"></script>
</head>
<body><main id="app"><p class="muted">loading…</p></main></body>
</html>
`;
}

/** The CSP source of an inline script's text. */
export function scriptHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

/** The Content-Security-Policy of the dashboard. */
export function contentSecurityPolicy(importMap: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' ${scriptHash(importMap)}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers on every response: the CSP, no sniffing, no framing, no referrer leaving the page. */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
}
