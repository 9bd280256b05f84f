import { describe, expect, it } from 'vitest';
import { createRoomInput, sendInput } from '../../src/contract/schemas.js';
import { hasVisibleText, roomNameKey, usesAllowedScripts } from '../../src/contract/text.js';

const INVISIBLES = [
  '\u200b', // zero-width space
  '\u200c', // zero-width non-joiner
  '\u200d', // zero-width joiner
  '\u2060', // word joiner
  '\u200e', // left-to-right mark
  '\u200f', // right-to-left mark
  '\ufeff', // byte-order mark
  '\u00ad', // soft hyphen
  '\u061c', // Arabic letter mark
  '\u180e', // Mongolian vowel separator
  '\u034f', // combining grapheme joiner
  '\ufe0f', // variation selector 16
  '\u{e0001}', // language tag
  '\u3164', // Hangul filler
  '\u115f\u1160', // Hangul choseong and jungseong fillers
  '\u0001', // a control character
];

describe('hasVisibleText', () => {
  it.each(INVISIBLES)('counts %j, alone or repeated among spaces, as empty', (invisible) => {
    expect(hasVisibleText(invisible)).toBe(false);
    expect(hasVisibleText(` ${invisible}\n${invisible}\t`)).toBe(false);
  });

  it('counts every format character (Cf) as invisible', () => {
    const format = /\p{Cf}/u;
    for (let code = 0; code <= 0xe0fff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const char = String.fromCodePoint(code);
      if (format.test(char)) expect(hasVisibleText(char), code.toString(16)).toBe(false);
    }
  });

  it('sees visible text, with invisible characters inside it', () => {
    for (const text of ['a', '.', '👍', '👨‍👩‍👧', 'a\u200bb', '\u200b x', '日本', '\u0301']) {
      expect(hasVisibleText(text), JSON.stringify(text)).toBe(true);
    }
  });
});

describe('roomNameKey', () => {
  it.each([
    ['Rust Fans', 'rust fans'],
    ['  Rust   Fans  ', 'rust fans'],
    ['Straße', 'strasse'],
    ['ＦＵＬＬ ｗｉｄｔｈ', 'full width'],
    ['ﬁve', 'five'],
    ['Café', 'café'],
    ['Cafe\u0301', 'café'],
    // JS lower-cases a word-final sigma to ς; every spelling of the word reaches the same key.
    ['ΣΊΣΥΦΟΣ', 'σίσυφος'],
    ['σίσυφοσ', 'σίσυφος'],
    ['日本語', '日本語'],
    ['zero\u200bwidth', 'zerowidth'],
  ])('turns %j into %j', (name, key) => {
    expect(roomNameKey(name)).toBe(key);
  });

  it('gives names that look the same the same key', () => {
    expect(roomNameKey('Straße Fans')).toBe(roomNameKey('STRASSE  fans'));
    expect(roomNameKey('ｒｕｓｔ')).toBe(roomNameKey('Rust'));
  });
});

describe('usesAllowedScripts (UTS #39 highly restrictive)', () => {
  it.each([
    'Rust Fans',
    'Москва',
    'Ελληνικά',
    '日本語',
    'ラーメン部',
    '日本語 Chat 2024',
    'ひらがな カタカナ 漢字 Latin',
    '中文 ㄅㄆㄇ chat',
    '한국어 韓國 Korean',
    'עברית',
    'العربية',
    'हिन्दी',
    'ไทย',
    'Café 1.0_beta-2',
    '123',
  ])('allows %j', (name) => {
    expect(usesAllowedScripts(name)).toBe(true);
  });

  it.each([
    ['pаypal', 'Latin with a Cyrillic а'],
    ['gооgle', 'Latin with Cyrillic о'],
    ['Ωmega', 'Greek with Latin'],
    ['Москва Moscow', 'Cyrillic with Latin'],
    ['ΑΒΓ абв', 'Greek with Cyrillic'],
    ['עברית abc', 'Hebrew with Latin'],
    ['ひらがな 한국', 'Japanese kana with Hangul'],
    ['漢字 ㄅ カ', 'Bopomofo with Katakana'],
  ])('refuses %j (%s)', (name) => {
    expect(usesAllowedScripts(name)).toBe(false);
  });
});

describe('schemas', () => {
  const fieldError = (result: { success: boolean; error?: { issues: { message: string }[] } }) =>
    result.error?.issues.map((issue) => issue.message);

  it('refuses messages made only of invisible characters as empty, and keeps ZWJ emoji', () => {
    expect(
      fieldError(sendInput.safeParse({ roomId: 'general', body: '\u200b\u200d\u2060' })),
    ).toEqual(['Message cannot be empty']);
    expect(fieldError(sendInput.safeParse({ roomId: 'general', body: '' }))).toEqual([
      'Message cannot be empty',
    ]);
    expect(sendInput.parse({ roomId: 'general', body: ' 👨‍👩‍👧 ' }).body).toBe('👨‍👩‍👧');
  });

  it('refuses invisible and script-mixing room names with a message for the field', () => {
    expect(fieldError(createRoomInput.safeParse({ name: '\u3164\u3164\u3164' }))).toEqual([
      'Room name must contain a visible letter or digit',
    ]);
    expect(fieldError(createRoomInput.safeParse({ name: 'pаypal' }))).toEqual([
      'Room name mixes scripts that can look alike (such as Latin with Cyrillic or Greek letters); use one script',
    ]);
    expect(createRoomInput.parse({ name: ' हिन्दी चर्चा ' }).name).toBe('हिन्दी चर्चा');
  });
});
