import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const from = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Where `npm run dev` runs the server; Vite's dev server proxies the API and the chat socket to it. */
const devServer = process.env.CHATHUB_DEV_SERVER ?? 'localhost:8080';

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
  server: {
    proxy: {
      '/trpc': `http://${devServer}`,
      '/ws': { target: `ws://${devServer}`, ws: true },
    },
  },
});
