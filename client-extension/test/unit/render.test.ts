import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pageStep, patchBlocks, planUpdate, renderBlocks, renderMarkdown, type BlockPatch, type PageUpdate } from '../../src/explain/render';

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

describe('planUpdate and pageStep: the panel and its page', () => {
  /** The page's side, as panel.ts's script does it: its blocks and the last update applied. */
  class Page {
    blocks: string[] = [];
    applied: number | null = null;
    asked = false; // sent 'ready', not answered yet
    resends = 0;
    receive(update: PageUpdate): void {
      const step = pageStep(this.applied, update.after);
      if (step !== 'apply') {
        if (step === 'resend') {
          this.asked = true;
          this.resends += 1;
        }
        this.applied = null;
        return;
      }
      this.blocks = apply(this.blocks, update);
      this.applied = update.update;
    }
  }

  function stream(drop: (n: number) => boolean): { page: Page; final: string[] } {
    const page = new Page();
    let shown: string[] = [];
    let sent = 0;
    let final: string[] = [];
    for (let end = 0; end <= EXPLANATION.length; end += 11) {
      if (page.asked) {
        shown = []; // the panel's answer to 'ready': everything again
        page.asked = false;
      }
      final = renderBlocks(EXPLANATION.slice(0, end));
      const update = planUpdate(shown, sent, final);
      shown = final;
      sent = update.update;
      if (!drop(update.update)) {
        page.receive(update);
      }
    }
    return { page, final };
  }

  it('shows the whole explanation when no update is lost', () => {
    const { page, final } = stream(() => false);
    assert.equal(page.resends, 0);
    assert.deepEqual(page.blocks, final);
  });

  it('asks for everything once per lost update, and then shows the whole explanation', () => {
    const { page, final } = stream((n) => n === 30 || n === 50);
    assert.equal(page.resends, 2);
    assert.deepEqual(page.blocks, final);
  });

  it('applies an update from scratch or on top of the last one, skips one built on another', () => {
    assert.equal(pageStep(null, null), 'apply');
    assert.equal(pageStep(4, 4), 'apply');
    assert.equal(pageStep(4, null), 'apply');
    assert.equal(pageStep(4, 3), 'resend');
    assert.equal(pageStep(null, 3), 'skip');
  });
});
