import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptId, usageLine, type UsageFigures, type UsageReport } from '../../src/protocol';
import { acceptedByEdit } from '../../src/usage/ghostEdit';
import { barChart, renderUsage } from '../../src/usage/render';

function figures(over: Partial<UsageFigures> = {}): UsageFigures {
  return {
    requests: 0, promptTokens: 0, generatedTokens: 0, shownTokens: 0, neverShownTokens: 0, stoppedEarly: 0,
    reportedRequests: 0, countedRequests: 0, cost: null, unpricedRequests: 0, shown: 0, accepted: 0,
    acceptRate: null, charsAccepted: 0, keptRate30s: null, keptRate2m: null, medianTimeToFirstGhostMs: null,
    ...over,
  };
}

describe('usage in the client', () => {
  it('reads a word accept from the edit, counting UTF-16 units from the start of the item', () => {
    const ghost = { text: '"🚀 launch" + name', before: 3, complete: true };
    // 3 units typed through, then `"🚀 ` (4 UTF-16 units) accepted: 7 units into the item
    assert.equal(acceptedByEdit(ghost, '"🚀 '), 7);
    assert.equal(acceptedByEdit(ghost, '"🚀 launch" + name'), 'whole');
    assert.equal(acceptedByEdit({ ...ghost, complete: false }, '"🚀 launch" + name'), 3 + 18); // 17 characters, the rocket is 2 units
  });

  it('takes one typed character, an emoji too, for typing, and other text for no accept', () => {
    assert.equal(acceptedByEdit({ text: '🚀 go', before: 0, complete: true }, '🚀'), undefined);
    assert.equal(acceptedByEdit({ text: 'x = 1', before: 0, complete: true }, 'x'), undefined);
    assert.equal(acceptedByEdit({ text: 'x = 1', before: 0, complete: true }, 'y ='), undefined);
    assert.equal(acceptedByEdit({ text: '🚀 go', before: 0, complete: true }, '🚀 '), 3);
  });

  it('reads the item id only from an inkstream.didAccept command', () => {
    assert.equal(acceptId({ insertText: 'x', command: { title: 't', command: 'inkstream.didAccept', arguments: ['abc'] } }), 'abc');
    assert.equal(acceptId({ insertText: 'x', command: { title: 't', command: 'other', arguments: ['abc'] } }), undefined);
    assert.equal(acceptId({ insertText: 'x' }), undefined);
  });

  it('says tokens, cost and accept rate for the tooltip, and never invents a cost', () => {
    const today = { day: '2026-12-01', requests: 3, tokens: 12345, promptTokens: 12000, generatedTokens: 345,
      neverShownTokens: 20, cost: 0.0123, shown: 4, accepted: 3, acceptRate: 0.75 };
    assert.equal(usageLine(today), 'Today: 12,345 tokens · cost 0.0123 · 3/4 accepted (75%)');
    assert.match(usageLine({ ...today, cost: null, acceptRate: null })!, /cost unknown \(no price set\) · no suggestions shown/);
    assert.equal(usageLine(undefined), undefined);
  });

  it('draws one bar per day, scaled to the largest', () => {
    const svg = barChart('Tokens', [{ day: 'a', value: 50 }, { day: 'b', value: 100 }, { day: 'c', value: 0 }], String);
    const heights = [...svg.matchAll(/height="(\d+)"><title>/g)].map((m) => Number(m[1]));
    assert.deepEqual(heights, [55, 110, 0]);
  });

  it('renders a page without scripts or remote content, escaping names', () => {
    const day = (d: string, tokens: number) => ({ day: d, ...figures({ promptTokens: tokens, cost: tokens / 1e6 }) });
    const report: UsageReport = {
      from: '2026-11-30', to: '2026-12-01', recording: true,
      totals: figures({ promptTokens: 300, accepted: 1, shown: 2, acceptRate: 0.5, keptRate2m: 0.9 }),
      days: [day('2026-11-30', 100), day('2026-12-01', 200)],
      byLanguage: [{ language: '<script>', ...figures() }], byModel: [], byEndpoint: [],
    };
    const html = renderUsage(report, 'NONCE');
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&#60;script&#62;'));
    assert.ok(!/https?:\/\//.test(html));
    assert.equal((html.match(/<rect class="bar"/g) ?? []).length, 6); // tokens, cost, accept rate
    assert.ok(html.includes('50%') && html.includes('90%'));
  });
});
