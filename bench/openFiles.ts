import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Every connection is a file descriptor in the server process and another in a client process.
 * Child processes inherit this process's limit, so it is raised here, before any is forked:
 * the soft limit up to the hard one, and the hard one too when we may (root). If that is not
 * enough the run stops with a message saying what to raise.
 */

/** Descriptors a process needs besides its sockets (files, pipes, Redis, the store). */
const HEADROOM = 1_024;

function openFilesLimit(): { soft: number; hard: number } {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const parse = (value: string | undefined) =>
    value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value);
  return { soft: parse(match?.[1]), hard: parse(match?.[2]) };
}

export function ensureOpenFiles(connections: number): void {
  const needed = connections + HEADROOM;
  const { soft, hard } = openFilesLimit();
  if (soft >= needed) return;
  const target = Math.max(needed, Math.min(hard, needed * 2));
  try {
    execFileSync('prlimit', [
      `--pid=${process.pid}`,
      `--nofile=${target}:${Math.max(hard, target)}`,
    ]);
  } catch (error) {
    throw new Error(
      `${connections} connections need ${needed} open files per process, the limit is ${soft}` +
        ` (hard ${hard}) and it could not be raised (${String(error).split('\n')[0]}):` +
        ` run \`ulimit -n ${needed}\` (as root if above the hard limit) and start the bench again`,
    );
  }
  const raised = openFilesLimit().soft;
  if (raised < needed) {
    throw new Error(
      `open files limit is still ${raised} after prlimit; run \`ulimit -n ${needed}\``,
    );
  }
  console.log(
    `   open files limit raised from ${soft} to ${raised} for ${connections} connections`,
  );
}
