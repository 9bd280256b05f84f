import { describe, expect, it } from 'vitest';
import { roomIdSchema } from '../../src/contract/schemas.js';
import { roomIdFor } from '../../src/domain/rooms.js';

describe('roomIdFor', () => {
  it.each([
    ['Rust Fans', 'rust-fans'],
    ['general', 'general'],
    ['Café Crème', 'cafe-creme'],
    ['  --Hello__World!!  ', 'hello-world'],
    ['TypeScript 5.x', 'typescript-5-x'],
    ['a.b_c-d e', 'a-b-c-d-e'],
    ['Zürich Ångström', 'zurich-angstrom'],
    ['ＦＵＬＬ width', 'full-width'],
  ])('turns %j into %j', (name, id) => {
    expect(roomIdFor(name)).toBe(id);
  });

  it('gives names without Latin letters or digits a unique ULID-based id', () => {
    const first = roomIdFor('聊天室');
    const second = roomIdFor('聊天室');
    expect(first).toMatch(/^room-[0-9a-hjkmnp-tv-z]{26}$/);
    expect(second).not.toBe(first);
    expect(roomIdFor('---')).toMatch(/^room-/);
  });

  it('keeps ids at most 48 characters', () => {
    const id = roomIdFor('abcdefghij'.repeat(10));
    expect(id).toBe('abcdefghij'.repeat(5).slice(0, 48));
  });

  it('always produces an id the contract accepts', () => {
    const names = [
      'Rust Fans',
      'Ünïcödé',
      '日本語',
      'x'.repeat(40),
      '1 2 3',
      'ﬁve ﬂags',
      'Ωmega',
      'mix 日本 and latin',
    ];
    for (const name of names) {
      const id = roomIdFor(name);
      expect(roomIdSchema.safeParse(id).success, `${name} → ${id}`).toBe(true);
    }
  });

  it('maps names that differ only in case or punctuation to the same id', () => {
    expect(roomIdFor('Rust Fans')).toBe(roomIdFor('rust-fans'));
    expect(roomIdFor('RUST   FANS!')).toBe(roomIdFor('rust_fans'));
  });
});
