import { describe, expect, it } from 'vitest';
import { baseImages } from './dockerfile.ts';

describe('baseImages', () => {
  it('lists FROM images, not stages or scratch, with ARG defaults substituted', () => {
    const text = [
      '# syntax comment',
      'ARG BASE=debian:bookworm-slim',
      'ARG TAG',
      'FROM --platform=linux/amd64 ${BASE} AS build',
      'RUN make \\',
      '  # a comment inside a continuation',
      '  all',
      'FROM build AS test',
      'FROM scratch',
      'from $BASE',
      'FROM python:${TAG:-3.12}',
      'FROM node:$TAG', // no value: left to the engine
      'COPY --from=build /out /out',
      'COPY --from=0 /out /out',
      'COPY --from=busybox:1 /bin/sh /sh',
    ].join('\n');
    expect(baseImages(text)).toEqual(['debian:bookworm-slim', 'python:3.12', 'busybox:1']);
  });

  it('ignores ARGs declared after the first FROM', () => {
    expect(baseImages('FROM a:1\nARG X=b:2\nFROM $X\n')).toEqual(['a:1']);
  });
});
