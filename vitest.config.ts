import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

/**
 * Two projects. `unit` needs nothing but Node: unit and component tests, the static deployment
 * checks, and the adapter contract suites run on the in-process adapters (`npm run test:unit`,
 * seconds). `integration` talks to real servers: its global setup starts (or finds) Redis and a
 * MongoDB-protocol server, and its tests open real HTTP and WebSocket sockets, spawn processes and
 * drive Chromium. `npm test` runs both.
 */
const IN_PROCESS_CONTRACTS = [
  'test/integration/bus.memory.test.ts',
  'test/integration/presence.memory.test.ts',
  'test/integration/storage.sqlite.test.ts',
];

export default defineConfig({
  plugins: [react()],
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['src/**/*.{ts,tsx}'],
      exclude: ['src/web/main.tsx'],
      reporter: ['text-summary', 'html'],
      reportsDirectory: 'artifacts/coverage',
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'test/unit/**/*.test.ts',
            'test/web/**/*.test.{ts,tsx}',
            'test/deploy/**/*.test.ts',
            ...IN_PROCESS_CONTRACTS,
          ],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: IN_PROCESS_CONTRACTS,
          globalSetup: ['test/setup/services.ts'],
        },
      },
    ],
  },
});
