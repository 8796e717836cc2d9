// Formatting numbers, durations and times for people (the same shapes `upshift watch` prints).

/** Thousands with commas. */
export function formatCount(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `1h02m`, `3m05s` or `12s`. */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** A local date and time, to the second. */
export function formatTime(ms) {
  if (ms === null || ms === undefined) return '–';
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The time of day only. */
export function formatClock(ms) {
  return formatTime(ms).slice(11);
}

/** The tag of an image reference (`registry/app:1.2.3` → `1.2.3`). */
export function tagOf(image) {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') ? image.slice(at + 1) : image;
}

/** Percent of a fraction, for bar widths. */
export function percentOf(fraction) {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  return `${Math.round(f * 1000) / 10}%`;
}
