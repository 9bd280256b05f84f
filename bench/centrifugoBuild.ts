import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The Centrifugo binary the bench compares against: v6.9.1, built from the Go module proxy into
 * .tools/bin (never committed) the first time a run needs it. The -X flag stamps the version,
 * which otherwise reads v0.0.0.
 */
export const CENTRIFUGO_VERSION = '6.9.1';
const MODULE = 'github.com/centrifugal/centrifugo/v6';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOOLS_BIN = join(ROOT, '.tools/bin');
const BUILD_TIMEOUT_MS = 20 * 60_000;

const run = promisify(execFile);

export type CentrifugoBinary = { path: string } | { skipped: string };

async function reportedVersion(path: string): Promise<string> {
  const { stdout } = await run(path, ['version'], { timeout: 10_000 });
  return stdout.trim();
}

async function build(): Promise<void> {
  console.log(
    `   building Centrifugo v${CENTRIFUGO_VERSION} into .tools/bin with go install` +
      ' (the first build takes several minutes on 2 cores) …',
  );
  const started = Date.now();
  await run(
    'go',
    [
      'install',
      '-ldflags',
      `-X ${MODULE}/internal/build.Version=${CENTRIFUGO_VERSION}`,
      `${MODULE}@v${CENTRIFUGO_VERSION}`,
    ],
    {
      env: { ...process.env, GOBIN: TOOLS_BIN },
      timeout: BUILD_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  console.log(`   built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function firstLine(error: unknown): string {
  const stderr = (error as { stderr?: unknown }).stderr;
  const text = typeof stderr === 'string' && stderr.trim() ? stderr : String(error);
  return text.trim().split('\n').slice(-3).join(' | ');
}

/** The binary to run (given, or built when missing), or why Centrifugo's rows are skipped. */
export async function centrifugoBinary(given: string | null): Promise<CentrifugoBinary> {
  const path = given ?? join(TOOLS_BIN, 'centrifugo');
  if (!existsSync(path)) {
    if (given) return { skipped: `no Centrifugo binary at ${given}` };
    try {
      await build();
    } catch (error) {
      return {
        skipped: `go install of Centrifugo v${CENTRIFUGO_VERSION} failed: ${firstLine(error)}`,
      };
    }
  }
  try {
    const version = await reportedVersion(path);
    if (!version.includes(`v${CENTRIFUGO_VERSION}`)) {
      return { skipped: `${path} reports "${version}", not v${CENTRIFUGO_VERSION}` };
    }
    return { path };
  } catch (error) {
    return { skipped: `${path} does not run: ${firstLine(error)}` };
  }
}
