/** One scrape of a Prometheus text endpoint, read back into samples. */
export class Scrape {
  private readonly samples = new Map<string, number>();
  /** Every metric family the scrape declared with `# TYPE`. */
  readonly families = new Map<string, string>();

  constructor(readonly text: string) {
    for (const line of text.split('\n')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) this.families.set(type[1] ?? '', type[2] ?? '');
      if (line === '' || line.startsWith('#')) continue;
      const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!sample) throw new Error(`not a Prometheus sample: ${line}`);
      const [, name = '', labels = '', value = ''] = sample;
      this.samples.set(keyOf(name, labelsIn(labels)), Number(value));
    }
  }

  /** The sample with exactly these labels, or undefined when the scrape has none. */
  sample(name: string, labels: Record<string, string> = {}): number | undefined {
    return this.samples.get(keyOf(name, labels));
  }

  /** A counter's value: 0 until it has been counted (labelled counters appear when first used). */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.sample(name, labels) ?? 0;
  }
}

function labelsIn(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [, key = '', value = ''] of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
    labels[key] = JSON.parse(`"${value}"`) as string;
  }
  return labels;
}

function keyOf(name: string, labels: Record<string, string>): string {
  const sorted = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return `${name}${JSON.stringify(sorted)}`;
}

export interface MetricsResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** GET a metrics URL, with a bearer token when given. */
export async function getMetrics(url: string, token?: string): Promise<MetricsResponse> {
  const response = await fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** Scrapes `url`, failing unless it answers 200. */
export async function scrape(url: string, token?: string): Promise<Scrape> {
  const response = await getMetrics(url, token);
  if (response.status !== 200) {
    throw new Error(`${url} answered ${response.status}: ${response.body}`);
  }
  return new Scrape(response.body);
}

/** Scrapes `url` until `holds` is true of a scrape (then returns it), or fails after `timeoutMs`. */
export async function scrapeUntil(
  url: string,
  token: string | undefined,
  holds: (scrape: Scrape) => boolean,
  timeoutMs = 10_000,
): Promise<Scrape> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const latest = await scrape(url, token);
    if (holds(latest)) return latest;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting on ${url}; last scrape:\n${latest.text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
