import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LINE_GAP_MS, LIVE_MS, nextRefreshAt, parseGrowthMode, STALE_MS, type GrowthState } from '../../src/inline/growth';

const SHOWN_AT = 10_000;

function state(shown: string, text: string, running = true): GrowthState {
  return { shown, text, shownAt: SHOWN_AT, running };
}

describe('nextRefreshAt', () => {
  it('never re-shows when nothing new (or only whitespace) has streamed', () => {
    for (const mode of ['lines', 'live', 'final'] as const) {
      assert.equal(nextRefreshAt(mode, state('if n', 'if n')), undefined, mode);
      assert.equal(nextRefreshAt(mode, state('if n', 'if n  \n    ')), undefined, mode);
      assert.equal(nextRefreshAt(mode, state('if n', 'if n', false)), undefined, mode);
    }
  });

  it('"live" re-shows every LIVE_MS while text grows', () => {
    assert.equal(nextRefreshAt('live', state('if', 'if n')), SHOWN_AT + LIVE_MS);
    assert.equal(nextRefreshAt('live', state('if', 'if n', false)), SHOWN_AT + LIVE_MS);
  });

  it('"lines" waits for a line to complete, then keeps LINE_GAP_MS between re-shows', () => {
    assert.equal(nextRefreshAt('lines', state('if', 'if n < 2')), SHOWN_AT + STALE_MS, 'a line still being written goes stale');
    assert.equal(nextRefreshAt('lines', state('if', 'if n < 2:\n')), SHOWN_AT + LINE_GAP_MS);
    assert.equal(nextRefreshAt('lines', state('if n < 2:\n    re', 'if n < 2:\n    return n')), SHOWN_AT + STALE_MS, 'the newline was already shown');
    assert.equal(nextRefreshAt('lines', state('if n < 2:\n    re', 'if n < 2:\n    return n\n')), SHOWN_AT + LINE_GAP_MS);
  });

  it('"lines" and "final" show the finished text', () => {
    assert.equal(nextRefreshAt('lines', state('if', 'if n', false)), SHOWN_AT + LINE_GAP_MS);
    assert.equal(nextRefreshAt('final', state('if', 'if n < 2:\n    return n', false)), SHOWN_AT);
  });

  it('"final" does not re-show while the model writes', () => {
    assert.equal(nextRefreshAt('final', state('if', 'if n < 2:\n    return n\n')), undefined);
  });

  it('re-shows a suggestion the server revised (not an extension of what is shown)', () => {
    assert.equal(nextRefreshAt('lines', state('if n < 2:\n    return n', 'if n < 2:', false)), SHOWN_AT + LINE_GAP_MS);
    assert.equal(nextRefreshAt('final', state('if n < 2:\n    return n', 'if n < 2:', false)), SHOWN_AT);
    assert.equal(nextRefreshAt('lines', state('if n < 2:\n    return n', 'if x')), SHOWN_AT + LINE_GAP_MS);
  });
});

describe('parseGrowthMode', () => {
  it('accepts the three modes and falls back to "lines"', () => {
    assert.equal(parseGrowthMode('live'), 'live');
    assert.equal(parseGrowthMode('final'), 'final');
    assert.equal(parseGrowthMode('lines'), 'lines');
    assert.equal(parseGrowthMode('sometimes'), 'lines');
    assert.equal(parseGrowthMode(undefined), 'lines');
  });
});
