import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const from = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The web client: src/web → dist/web, which the API role serves. */
export default defineConfig({
  root: from('./src/web'),
  publicDir: from('./public'),
  plugins: [react()],
  build: {
    outDir: from('./dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
});
