import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inkstreamCapabilities, isCancellation, parseTokenReport } from '../../src/protocol';

describe('protocol helpers', () => {
  it('reads experimental.inkstream', () => {
    assert.deepEqual(inkstreamCapabilities({ inkstream: { inlineCompletion: true } }), { inlineCompletion: true });
    assert.equal(inkstreamCapabilities(undefined), undefined);
    assert.equal(inkstreamCapabilities({ other: 1 }), undefined);
  });

  it('recognises cancellations', () => {
    assert.equal(isCancellation({ code: -32800, message: 'cancelled' }), true);
    assert.equal(isCancellation({ code: -32802, message: 'superseded' }), true);
    assert.equal(isCancellation({ code: -32803, message: 'upstream' }), false);
    const canceled = new Error('Canceled');
    canceled.name = 'Canceled';
    assert.equal(isCancellation(canceled), true);
  });

  it('parses work-done reports', () => {
    assert.deepEqual(parseTokenReport('42 tokens, 31.5 tok/s'), { tokens: 42, rate: 31.5 });
    assert.deepEqual(parseTokenReport('1 token, 2 tok/s'), { tokens: 1, rate: 2 });
    assert.equal(parseTokenReport('starting'), undefined);
    assert.equal(parseTokenReport(undefined), undefined);
  });
});
