import { expect, it } from 'vitest';
import { usableLanguage } from './locale-guard';

it('keeps a real language tag and replaces the C locale WebKitGTK reports under LANG=C', () => {
  expect(usableLanguage('de-DE'), 'a real tag must be kept as the user set it').toBe('de-DE');
  expect(() => new Intl.NumberFormat('C'), 'the premise: "C" is not a usable tag').toThrow(RangeError);
  expect(usableLanguage('C', ['C', 'fr-FR']), 'under LANG=C the next usable language must be used').toBe('fr-FR');
  expect(usableLanguage('C', ['C']), 'with no usable language at all the caller must fall back').toBeNull();
  expect(usableLanguage(undefined), 'a missing language must not be taken as usable').toBeNull();
});
