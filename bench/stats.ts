export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? Number.NaN;
}

export function summarizeLatencies(parts: readonly Float64Array[]): LatencySummary {
  const all = new Float64Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  all.sort();
  return {
    p50: percentile(all, 0.5),
    p99: percentile(all, 0.99),
    max: all.length ? (all[all.length - 1] ?? Number.NaN) : Number.NaN,
  };
}

export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const middle = Math.floor(finite.length / 2);
  return finite.length % 2
    ? (finite[middle] ?? Number.NaN)
    : ((finite[middle - 1] ?? 0) + (finite[middle] ?? 0)) / 2;
}
