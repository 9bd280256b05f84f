import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startServer } from './server.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, { role: config.ROLE });
  // Every promise on the server has an owner that handles its failure; one that escapes is a bug
  // to fix, not a reason to drop every client on this process.
  process.on('unhandledRejection', (reason) => {
    log.error('unhandled promise rejection (a bug: the process carries on)', { error: reason });
  });
  // After an exception nothing is known about the process's state: exit, and let the
  // orchestrator start a fresh one.
  process.on('uncaughtException', (error) => {
    log.error('uncaught exception; exiting', { error });
    process.exit(1);
  });
  const running = await startServer(config, log);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof ConfigError ? error.message : String(error instanceof Error ? error.stack : error)}\n`,
  );
  process.exit(1);
});
