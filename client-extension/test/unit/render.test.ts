import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { patchBlocks, renderBlocks, renderMarkdown, type BlockPatch } from '../../src/explain/render';

// An explanation as a model writes it, with the constructs where a later line changes an earlier block.
const EXPLANATION = [
  'The function `fib` computes the *n*-th Fibonacci number **recursively**.',
  '',
  '- For `n < 2` it returns `n`.',
  '- Otherwise it adds the two previous numbers.',
  '',
  '- A blank line above makes the whole list loose.',
  '',
  'A paragraph that becomes a heading',
  '===',
  '',
  '> quoted, and',
  'lazily continued',
  '',
  '```python',
  'from functools import lru_cache',
  '',
  '@lru_cache(maxsize=None)',
  'def fib(n):',
  '    return n if n < 2 else fib(n - 1) + fib(n - 2)',
  '```',
  '',
  '| n | fib(n) |',
  '|---|--------|',
  '| 10 | 55 |',
  '',
  'See [the docs][docs] and <https://example.com/x>, not <b>raw html</b> or [this](javascript:alert(1)).',
  '',
  '1. one',
  '2. two',
  '',
  '[docs]: https://docs.python.org/3/library/functools.html',
  '',
].join('\n');

function apply(shown: readonly string[], patch: BlockPatch): string[] {
  return [...shown.slice(0, patch.keep), ...patch.append];
}

describe('renderBlocks', () => {
  it('joined, is the whole rendering, for every prefix of a streaming explanation', () => {
    for (let end = 0; end <= EXPLANATION.length; end++) {
      const text = EXPLANATION.slice(0, end);
      assert.equal(renderBlocks(text).join(''), renderMarkdown(text), `prefix of ${end} characters`);
    }
  });

  it('gives one block per top-level element', () => {
    const blocks = renderBlocks('# Title\n\nsome *text*\n\n- a\n- b\n\n```\ncode\n```\n');
    assert.deepEqual(blocks, ['<h1>Title</h1>\n', '<p>some <em>text</em></p>\n', '<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n', '<pre><code>code\n</code></pre>\n']);
  });

  it('escapes raw HTML and drops javascript: links', () => {
    const html = renderBlocks('<script>alert(1)</script> [x](javascript:alert(1)) [y](https://ok.example)').join('');
    assert.ok(!html.includes('<script>'), html);
    assert.ok(html.includes('&lt;script&gt;'), html);
    assert.ok(!html.includes('href="javascript:'), html);
    assert.ok(html.includes('href="https://ok.example"'), html);
  });
});

describe('patchBlocks', () => {
  it('replaces only what changed while an explanation streams, and always reproduces the rendering', () => {
    let shown: string[] = [];
    let replaced = 0;
    let updates = 0;
    for (let end = 0; end <= EXPLANATION.length; end += 7) {
      const next = renderBlocks(EXPLANATION.slice(0, end));
      const patch = patchBlocks(shown, next);
      shown = apply(shown, patch);
      assert.deepEqual(shown, next);
      replaced += patch.append.length;
      updates += 1;
    }
    // Mostly the last block (a loosened list or a setext heading now and then redo more).
    assert.ok(replaced < updates * 1.5, `${replaced} blocks sent in ${updates} updates`);
  });

  it('keeps everything when nothing changed, and nothing when all did', () => {
    assert.deepEqual(patchBlocks(['a', 'b'], ['a', 'b']), { keep: 2, append: [] });
    assert.deepEqual(patchBlocks(['a', 'b'], ['x']), { keep: 0, append: ['x'] });
    assert.deepEqual(patchBlocks(['a', 'b'], ['a']), { keep: 1, append: [] });
    assert.deepEqual(patchBlocks([], ['a']), { keep: 0, append: ['a'] });
  });
});
