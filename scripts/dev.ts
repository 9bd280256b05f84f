/**
 * `npm run dev`: the server (ROLE=all unless set) restarted by `tsx watch` on every change under
 * src/, and Vite's dev server with hot reload for the web app, proxying /trpc and /ws to it. Open
 * the URL Vite prints. Ctrl-C stops both.
 */
import { type ChildProcess, spawn } from 'node:child_process';

const serverPort = process.env.PORT ?? '8080';
const children: ChildProcess[] = [
  spawn('npx', ['tsx', 'watch', '--clear-screen=false', 'src/main.ts'], {
    stdio: 'inherit',
    env: { ...process.env, PORT: serverPort },
  }),
  spawn('npx', ['vite'], {
    stdio: 'inherit',
    env: { ...process.env, CHATHUB_DEV_SERVER: `localhost:${serverPort}` },
  }),
];

let stopping = false;
const stop = (code: number) => {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  process.exitCode = code;
};
for (const child of children) child.once('exit', (code) => stop(code ?? 1));
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));
