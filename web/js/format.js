// Formatting helpers: times, counts, run summaries.

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many || one + 's'}`;
}

export function parseTime(iso) {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : new Date(t);
}

export function timeAgo(iso, now = Date.now()) {
  const d = parseTime(iso);
  if (!d) return '—';
  const sec = Math.round((now - d.getTime()) / 1000);
  if (sec < 0) return 'just now';
  if (sec < 45) return 'just now';
  if (sec < 90) return '1 min ago';
  const min = Math.round(sec / 60);
  if (min < 60) return `${min} min ago`;
  const hr = Math.round(min / 60);
  if (hr < 24) return `${hr} h ago`;
  const day = Math.round(hr / 24);
  if (day < 30) return plural(day, 'day') + ' ago';
  return d.toISOString().slice(0, 10);
}

export function fmtTime(iso) {
  const d = parseTime(iso);
  if (!d) return '—';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtDuration(ms) {
  if (ms === undefined || ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

/**
 * Status of a RunSummary: {kind: error|warning|ok|none, word, detail}.
 * error_count counts workflows with errors, warning_count warnings.
 */
export function summaryStatus(summary) {
  if (!summary) return { kind: 'none', word: 'never', detail: 'never run' };
  const errors = summary.error_count || 0;
  const warnings = summary.warning_count || 0;
  const wf = plural(summary.workflow_count || 0, 'workflow');
  if (errors > 0 || summary.ok === false) {
    return { kind: 'error', word: errors ? `${errors} failed` : 'failed', detail: `${wf}, ${errors} failed, ${plural(warnings, 'warning')}` };
  }
  if (warnings > 0) return { kind: 'warning', word: plural(warnings, 'warning'), detail: `${wf}, ${plural(warnings, 'warning')}` };
  return { kind: 'ok', word: 'ok', detail: `${wf}, no problems` };
}

/** Severity rank for sorting (errors first). */
export function statusRank(kind) {
  return { error: 0, warning: 1, ok: 2, none: 3 }[kind] ?? 4;
}

export function splitRef(ref) {
  const i = ref.lastIndexOf('.');
  return i < 0 ? { pack: '', name: ref } : { pack: ref.slice(0, i), name: ref.slice(i + 1) };
}
