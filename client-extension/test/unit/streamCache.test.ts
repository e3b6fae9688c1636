import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUsable, makeAnchor, matchEntry, mergeSnapshot, snapshotItem, StreamCache, StreamEntry } from '../../src/inline/streamCache';

const DOC = 'def add(a, b):\n    \nprint(add(1, 2))\n';
const CURSOR = DOC.indexOf('    \n') + 4; // end of the indented blank line
const URI = 'file:///w/a.py';

function typeAt(doc: string, offset: number, text: string): string {
  return doc.slice(0, offset) + text + doc.slice(offset);
}

describe('mergeSnapshot', () => {
  const cases: [string, string, Parameters<typeof mergeSnapshot>[1], string, string][] = [
    ['first snapshot', '', { items: [{ insertText: 'ret' }] }, '', 'ret'],
    ['a later snapshot replaces, it is not appended', 'ret', { items: [{ insertText: 'return a' }] }, '', 'return a'],
    ['a cleaned-up snapshot may shrink', 'return a + b\n\n\n', { items: [{ insertText: 'return a + b\n' }] }, '', 'return a + b\n'],
    ['an array result works like a list', 'x', [{ insertText: 'xy' }], '', 'xy'],
    ['a snippet-style insertText uses its value', '', { items: [{ insertText: { kind: 'snippet', value: 'v' } }] }, '', 'v'],
    ['no items keeps the previous text', 'keep', { items: [] }, '', 'keep'],
    ['null keeps the previous text', 'keep', null, '', 'keep'],
    ['a range over the word before the cursor is reduced to the part after it', '', { items: [{ insertText: 'return a' }] }, 're', 'turn a'],
    ['a ranged item that does not repeat the word is ignored', 'old', { items: [{ insertText: 'pass' }] }, 're', 'old'],
  ];
  for (const [name, previous, incoming, replaced, expected] of cases) {
    it(name, () => assert.equal(mergeSnapshot(previous, incoming, replaced), expected));
  }

  it('skips items without text', () => {
    assert.deepEqual(snapshotItem({ items: [{ insertText: { value: undefined as unknown as string } }, { insertText: 'b' }] }), { insertText: 'b' });
  });
});

describe('isUsable', () => {
  it('needs something besides whitespace', () => {
    assert.equal(isUsable(''), false);
    assert.equal(isUsable('  \n\t'), false);
    assert.equal(isUsable('\n    r'), true);
  });
});

describe('matchEntry (type-through)', () => {
  function entry(text: string, done = false): StreamEntry {
    const e = new StreamEntry(makeAnchor(URI, DOC, CURSOR), 0);
    e.update(text);
    if (done) {
      e.finish(undefined);
    }
    return e;
  }

  it('at the anchor, shows everything', () => {
    const m = matchEntry(entry('return a + b'), DOC, CURSOR);
    assert.deepEqual({ typed: m?.typed, remainder: m?.remainder, ahead: m?.ahead }, { typed: '', remainder: 'return a + b', ahead: false });
  });

  it('typing a prefix of the suggestion keeps it and answers the remainder', () => {
    const doc = typeAt(DOC, CURSOR, 'ret');
    const m = matchEntry(entry('return a + b'), doc, CURSOR + 3);
    assert.equal(m?.typed, 'ret');
    assert.equal(m?.remainder, 'urn a + b');
  });

  it('typing something else breaks the match', () => {
    const doc = typeAt(DOC, CURSOR, 'x');
    assert.equal(matchEntry(entry('return a + b'), doc, CURSOR + 1), undefined);
  });

  it('typing past the streamed text is "ahead" while running, and a miss once done', () => {
    const doc = typeAt(DOC, CURSOR, 'return');
    assert.equal(matchEntry(entry('ret'), doc, CURSOR + 6)?.ahead, true);
    assert.equal(matchEntry(entry('ret', true), doc, CURSOR + 6), undefined);
  });

  it('a cursor before the anchor, an edit above it, or a changed rest of line break the match', () => {
    const e = entry('return a + b');
    assert.equal(matchEntry(e, DOC, CURSOR - 1), undefined);
    const above = 'import os\n' + DOC;
    assert.equal(matchEntry(e, above, CURSOR + 10), undefined);
    const autoClosed = typeAt(DOC, CURSOR, '()');
    assert.equal(matchEntry(entry('(a)'), autoClosed, CURSOR + 1), undefined);
  });

  it('accepting the whole suggestion leaves an empty remainder', () => {
    const doc = typeAt(DOC, CURSOR, 'return a + b');
    assert.equal(matchEntry(entry('return a + b', true), doc, CURSOR + 12)?.remainder, '');
  });

  it('works with CRLF line ends', () => {
    const crlf = DOC.replace(/\n/g, '\r\n');
    const cursor = crlf.indexOf('    \r\n') + 4;
    const e = new StreamEntry(makeAnchor(URI, crlf, cursor), 0);
    e.update('return 1');
    assert.equal(matchEntry(e, typeAt(crlf, cursor, 'r'), cursor + 1)?.remainder, 'eturn 1');
  });
});

describe('StreamEntry', () => {
  it('counts changed snapshots only and ignores updates after the end', () => {
    const e = new StreamEntry(makeAnchor(URI, DOC, CURSOR), 0);
    assert.equal(e.update('a'), true);
    assert.equal(e.update('a'), false);
    assert.equal(e.update('ab'), true);
    e.finish('abc');
    assert.equal(e.update('abcd'), false);
    assert.deepEqual([e.text, e.updates, e.state], ['abc', 2, 'done']);
  });

  it('the final result wins; no final text keeps the snapshot', () => {
    const e = new StreamEntry(makeAnchor(URI, DOC, CURSOR), 0);
    e.update('abc');
    e.finish(undefined);
    assert.equal(e.text, 'abc');
  });

  it('waitFor resolves on the first usable snapshot, at the end, or on abort', async () => {
    const e = new StreamEntry(makeAnchor(URI, DOC, CURSOR), 0);
    const waiting = e.waitFor((x) => isUsable(x.text));
    e.update('  ');
    let settled = false;
    void waiting.then(() => (settled = true));
    await Promise.resolve();
    assert.equal(settled, false);
    e.update('  x');
    assert.equal((await waiting).text, '  x');

    const ended = new StreamEntry(makeAnchor(URI, DOC, CURSOR), 0);
    const w2 = ended.waitFor(() => false);
    ended.fail(new Error('boom'), false);
    assert.equal((await w2).state, 'failed');

    const aborted = new StreamEntry(makeAnchor(URI, DOC, CURSOR), 0);
    let abort: () => void = () => undefined;
    const w3 = aborted.waitFor(() => false, (a) => (abort = a));
    abort();
    assert.equal((await w3).state, 'running');
  });
});

describe('StreamCache', () => {
  it('keeps one stream per document and hands back the one it replaces', () => {
    const cache = new StreamCache();
    const first = cache.begin(makeAnchor(URI, DOC, CURSOR), 0);
    assert.equal(first.replaced, undefined);
    const second = cache.begin(makeAnchor(URI, DOC, CURSOR), 1);
    assert.equal(second.replaced, first.entry);
    assert.equal(cache.get(URI), second.entry);
    cache.begin(makeAnchor('file:///w/b.py', DOC, 0), 2);
    assert.equal(cache.all().length, 2);
  });

  it('lookup answers type-through from the cache and ignores failed or cancelled streams', () => {
    const cache = new StreamCache();
    const { entry } = cache.begin(makeAnchor(URI, DOC, CURSOR), 0);
    entry.update('return a + b');
    assert.equal(cache.lookup(URI, typeAt(DOC, CURSOR, 'return '), CURSOR + 7)?.remainder, 'a + b');
    entry.fail(new Error('x'), true);
    assert.equal(cache.lookup(URI, DOC, CURSOR), undefined);
  });

  it('delete only removes the entry it is given', () => {
    const cache = new StreamCache();
    const old = cache.begin(makeAnchor(URI, DOC, CURSOR), 0).entry;
    const current = cache.begin(makeAnchor(URI, DOC, CURSOR), 1).entry;
    cache.delete(old);
    assert.equal(cache.get(URI), current);
  });
});
