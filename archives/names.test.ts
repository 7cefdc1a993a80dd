// The lexical name checks, for every caller: where an entry lands, where a symlink points.
import { describe, expect, it } from 'vitest';
import { insideRoot, linkStaysInside } from './names.ts';

describe('insideRoot', () => {
  it.each([
    ['a', 'a'],
    ['a/b/c', 'a/b/c'],
    ['./a/', 'a'],
    ['a//b/./c/', 'a/b/c'],
    ['a/../b', 'b'],
    ['a/..', ''],
    ['.', ''],
    ['./', ''],
    ['', ''],
    ['..foo', '..foo'],
    ['a/..b', 'a/..b'],
  ])('keeps %j inside as %j', (name, expected) => {
    expect(insideRoot(name)).toBe(expected);
  });

  it.each(['..', '../', '../evil', 'a/../../evil', 'a/b/../../..', './../x', '/etc/passwd', '//etc', '/', 'C:evil', 'c:\\evil', 'a\\..\\..\\evil', 'a\\b'])(
    'refuses %j',
    (name) => {
      expect(insideRoot(name)).toBeNull();
    },
  );
});

describe('linkStaysInside', () => {
  it.each([
    ['link', 'file'],
    ['link', '.'],
    ['a/link', '../file'],
    ['a/b', '../c'],
    ['a/b/link', '../../file'],
    ['a/b/link', '../c/./d'],
    ['a/link', 'sub/deeper/x'],
  ])('%j -> %j stays inside', (name, target) => {
    expect(linkStaysInside(name, target)).toBe(true);
  });

  it.each([
    ['link', '..'],
    ['link', '../x'],
    ['a/link', '../../out'],
    ['a/b', '../../c'],
    ['a/b/link', '../../../out'],
    ['link', '/etc/passwd'],
    ['a/link', '/'],
    ['link', ''],
    ['a/link', '..\\..\\out'],
    ['a/link', 'x/../../../out'],
    ['a/b', 'x/../../c'],
    // Lexically `up/..` is `.`, but when `up` is itself a link to `..` the path climbs out:
    // a `..` after a named component cannot be judged without the filesystem, so it is refused.
    ['a/link', 'up/..'],
    ['a/link', 'b/../c'],
  ])('%j -> %j is refused', (name, target) => {
    expect(linkStaysInside(name, target)).toBe(false);
  });
});
