import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { TOPIC_KINDS, isValidPrefix, parseTopic, topicFor } from './topics.js';

describe('topics', () => {
  it('builds and parses every kind', () => {
    for (const kind of TOPIC_KINDS) expect(parseTopic('bitmesh', topicFor('bitmesh', 'bm1abc', kind))).toEqual({ node: 'bm1abc', kind });
    expect(parseTopic('site/bitmesh', 'site/bitmesh/bm1x/cmd/result')).toEqual({ node: 'bm1x', kind: 'cmd/result' });
  });

  it('ignores other topics', () => {
    expect(parseTopic('bitmesh', 'other/bm1x/status')).toBeUndefined();
    expect(parseTopic('bitmesh', 'bitmesh/bm1x/nope')).toBeUndefined();
    expect(parseTopic('bitmesh', 'bitmesh//status')).toBeUndefined();
    expect(parseTopic('bitmesh', 'bitmeshx/bm1/status')).toBeUndefined();
  });

  it('prefixes have no wildcards or empty levels', () => {
    expect(isValidPrefix('bitmesh')).toBe(true);
    expect(isValidPrefix('a/b')).toBe(true);
    for (const bad of ['', 'a/', '/a', 'a//b', 'a/+', '#', 'a b']) expect(isValidPrefix(bad)).toBe(false);
  });

  it('property: parse never throws', () => {
    fc.assert(fc.property(fc.string(), (t) => void parseTopic('bitmesh', t)));
  });
});
