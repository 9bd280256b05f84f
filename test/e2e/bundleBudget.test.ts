import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const WEB_DIST = fileURLToPath(new URL('../../dist/web', import.meta.url));
/** What a first visit may download, gzipped: the JS and CSS that index.html loads up front. */
const BUDGET_BYTES = 200 * 1024;

interface Asset {
  kind: 'script' | 'modulepreload' | 'stylesheet';
  url: string;
}

/** The `name="value"` attributes of every `<tag ...>` in `html`. */
function tags(html: string, tag: string): Record<string, string>[] {
  const found: Record<string, string>[] = [];
  for (const match of html.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, 'gi'))) {
    const attributes: Record<string, string> = {};
    for (const attr of (match[1] ?? '').matchAll(
      /([\w:-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g,
    )) {
      const name = attr[1]?.toLowerCase();
      if (name) attributes[name] = attr[2] ?? attr[3] ?? attr[4] ?? '';
    }
    found.push(attributes);
  }
  return found;
}

/** The JS and CSS index.html makes the browser fetch before the app can render. */
function initialAssets(html: string): Asset[] {
  const assets: Asset[] = [];
  for (const script of tags(html, 'script')) {
    if (script.src) assets.push({ kind: 'script', url: script.src });
  }
  for (const link of tags(html, 'link')) {
    const rels = (link.rel ?? '').toLowerCase().split(/\s+/);
    if (!link.href) continue;
    if (rels.includes('stylesheet')) assets.push({ kind: 'stylesheet', url: link.href });
    else if (rels.includes('modulepreload')) assets.push({ kind: 'modulepreload', url: link.href });
  }
  const byUrl = new Map(assets.map((asset) => [asset.url, asset]));
  return [...byUrl.values()];
}

/** Maps an asset URL from index.html ("/assets/x.js", "./assets/x.js") to its file in dist/web. */
function assetFile(url: string): string {
  if (/^(?:[a-z][a-z0-9+.-]*:)?\/\//i.test(url)) {
    throw new Error(
      `index.html loads ${url} from another origin; the budget only covers our own assets`,
    );
  }
  const path = decodeURIComponent(url.split(/[?#]/)[0] ?? '');
  const file = resolve(WEB_DIST, `.${path.startsWith('/') ? path : `/${path}`}`);
  if (!file.startsWith(WEB_DIST + sep)) throw new Error(`${url} resolves outside dist/web`);
  if (!existsSync(file))
    throw new Error(`index.html references ${url}, but ${file} does not exist`);
  return file;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

describe('web client bundle budget', () => {
  it(`loads at most ${BUDGET_BYTES / 1024} KB of gzipped JS and CSS up front`, () => {
    const indexPath = join(WEB_DIST, 'index.html');
    if (!existsSync(indexPath)) {
      throw new Error(
        `${relative(process.cwd(), indexPath)} is missing: run npm run build first (it builds the web client into dist/web)`,
      );
    }
    const assets = initialAssets(readFileSync(indexPath, 'utf8'));
    expect(
      assets.filter((asset) => asset.kind === 'script'),
      'index.html should load the app with a <script src>',
    ).not.toHaveLength(0);

    const rows = assets.map((asset) => {
      const content = readFileSync(assetFile(asset.url));
      const gzip = gzipSync(content, { level: 9 }).length;
      return { asset: asset.url, kind: asset.kind, raw: content.length, gzip };
    });
    const total = rows.reduce((sum, row) => sum + row.gzip, 0);
    const rawTotal = rows.reduce((sum, row) => sum + row.raw, 0);

    const table = [
      ...rows.map((row) => ({ ...row, raw: kb(row.raw), gzip: kb(row.gzip) })),
      { asset: 'TOTAL', kind: '', raw: kb(rawTotal), gzip: `${kb(total)} (${total} B)` },
    ];
    console.log(
      `Initial web bundle (gzip -9), budget ${kb(BUDGET_BYTES)} (${BUDGET_BYTES} B):\n` +
        table
          .map(
            (row) =>
              `  ${row.asset.padEnd(44)} ${row.kind.padEnd(13)} ${row.raw.padStart(10)} raw  ${row.gzip.padStart(10)} gzip`,
          )
          .join('\n'),
    );

    expect(
      total,
      `initial JS+CSS is ${total} B gzipped (${kb(total)}), over the ${BUDGET_BYTES} B budget`,
    ).toBeLessThan(BUDGET_BYTES);
  });
});
