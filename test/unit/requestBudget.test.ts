import { describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/chat/transport/requestBudget.js';

function clock() {
  let now = 1_000_000;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const spendMany = (budget: RequestBudget, times: number) =>
  Array.from({ length: times }, () => budget.spend());

describe('RequestBudget', () => {
  it('serves a burst, refuses as much again, then closes', () => {
    const budget = new RequestBudget(1, 3, clock().now);
    expect(spendMany(budget, 7)).toEqual([
      'serve',
      'serve',
      'serve',
      'refuse',
      'refuse',
      'refuse',
      'close',
    ]);
  });

  it('refills at the rate, paying off debt first', () => {
    const time = clock();
    const budget = new RequestBudget(10, 5, time.now);
    spendMany(budget, 8); // 3 in debt
    time.advance(300); // paid off: 0 left
    expect(budget.spend()).toBe('refuse');
    time.advance(200);
    expect(budget.spend()).toBe('serve');
  });

  it('never saves up more than a burst', () => {
    const time = clock();
    const budget = new RequestBudget(100, 2, time.now);
    time.advance(60_000);
    expect(spendMany(budget, 3)).toEqual(['serve', 'serve', 'refuse']);
  });

  it('keeps serving a client that stays within its rate', () => {
    const time = clock();
    const budget = new RequestBudget(50, 100, time.now);
    for (let i = 0; i < 1_000; i++) {
      time.advance(20);
      expect(budget.spend()).toBe('serve');
    }
  });
});
