import { describe, expect, it } from 'vitest';
import { type CpuProfile, topOfProfile } from '../../bench/profileSummary.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({
  functionName,
  url,
  lineNumber,
});

/** root → send (src) → writev (native); root → (idle); root → profileStart (bench). */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 4, 5] },
    { id: 2, callFrame: frame('send', 'file:///x/src/domain/chat.ts', 40), children: [3] },
    { id: 3, callFrame: frame('writev') },
    { id: 4, callFrame: frame('(idle)') },
    { id: 5, callFrame: frame('profileStart', 'file:///x/bench/serverProcess.ts', 0) },
  ],
  samples: [3, 3, 3, 2, 4, 4, 5],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

describe('bench CPU profile summary', () => {
  it('leaves idle time and the profiler starting out of the shares', () => {
    const top = topOfProfile(profile, 10);
    expect(top).toMatchObject({ totalMs: 7, idleMs: 2, profilerMs: 1, busyMs: 4 });
    expect(top.bySelf).toEqual([
      { name: 'writev (native)', selfMs: 3, totalMs: 3 },
      { name: 'send src/domain/chat.ts:41', selfMs: 1, totalMs: 4 },
      { name: '(root)', selfMs: 0, totalMs: 4 },
    ]);
    expect(top.byPlace).toEqual([
      { place: 'writev (native)', selfMs: 3 },
      { place: 'src/domain/chat.ts', selfMs: 1 },
      { place: '(root)', selfMs: 0 },
    ]);
  });
});
