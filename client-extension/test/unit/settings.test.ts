import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  expandCommand,
  initializationOptions,
  installCommand,
  isLanguageEnabled,
  isNextEditEnabled,
  needsRestart,
  pythonServerCommand,
  readSettings,
  toServerSettings,
  versionCommand,
  type ConfigurationLike,
  type InspectResult,
} from '../../src/settings';

function config(values: Record<string, InspectResult<unknown>>): ConfigurationLike {
  return { inspect: <T>(key: string) => values[key] as InspectResult<T> | undefined };
}

describe('readSettings', () => {
  it('only configured values are read; defaults stay with the server', () => {
    const c = config({ baseUrl: { defaultValue: null }, model: { defaultValue: 'gpt-4o-mini' }, maxTokens: { defaultValue: 256 } });
    assert.deepEqual(readSettings(c, true), {});
  });

  it('folder > workspace > user, when trusted', () => {
    const c = config({
      model: { globalValue: 'user', workspaceValue: 'ws' },
      baseUrl: { globalValue: 'http://user/v1', workspaceValue: 'http://ws/v1', workspaceFolderValue: 'http://folder/v1' },
    });
    assert.deepEqual(readSettings(c, true), { model: 'ws', baseUrl: 'http://folder/v1' });
  });

  it('untrusted: workspace endpoint and server command are ignored, other workspace settings still apply', () => {
    const c = config({
      baseUrl: { globalValue: 'http://user/v1', workspaceValue: 'http://evil/v1' },
      serverCommand: { workspaceValue: ['/tmp/evil', 'serve'] },
      model: { workspaceValue: 'ws-model' },
    });
    assert.deepEqual(readSettings(c, false), { baseUrl: 'http://user/v1', model: 'ws-model' });
  });

  it('inkstream.nextEdit.* reach the server as nextEdit; an untrusted workspace cannot set its endpoint', () => {
    const c = config({
      'nextEdit.enable': { defaultValue: true, workspaceValue: false },
      'nextEdit.model': { globalValue: 'zeta' },
      'nextEdit.baseUrl': { globalValue: 'http://nes/v1', workspaceValue: 'http://evil/v1' },
      'nextEdit.format': { globalValue: ' zeta ' },
    });
    const untrusted = readSettings(c, false);
    assert.deepEqual(toServerSettings(untrusted), { nextEdit: { enable: false, model: 'zeta', baseUrl: 'http://nes/v1', format: 'zeta' } });
    assert.equal(isNextEditEnabled(untrusted), false);
    assert.equal(readSettings(c, true).nextEdit?.baseUrl, 'http://evil/v1');
    assert.equal(isNextEditEnabled(readSettings(config({ 'nextEdit.enable': { defaultValue: true } }), true)), true);
    assert.deepEqual(readSettings(config({ 'nextEdit.model': { defaultValue: '' } }), true), {});
  });

  it('proxy and caFile reach the server; an untrusted workspace cannot set them', () => {
    const c = config({
      proxy: { globalValue: 'http://proxy.corp:3128', workspaceValue: 'http://evil:3128' },
      caFile: { workspaceValue: '/tmp/evil-ca.pem' },
    });
    assert.deepEqual(readSettings(c, false), { proxy: 'http://proxy.corp:3128' });
    const trusted = readSettings(c, true);
    assert.deepEqual(toServerSettings(trusted), { proxy: 'http://evil:3128', caFile: '/tmp/evil-ca.pem' });
  });

  it("a proxy with credentials goes one way: the user's in initializationOptions, a workspace's where the server refuses it", () => {
    const user = readSettings(config({ proxy: { globalValue: 'http://me:pw@proxy.corp:3128' } }), true);
    assert.equal(toServerSettings(user, 'init').proxy, 'http://me:pw@proxy.corp:3128');
    assert.equal(initializationOptions(user, undefined).proxy, 'http://me:pw@proxy.corp:3128');
    assert.equal(toServerSettings(user).proxy, undefined); // workspace/configuration answers
    const workspace = readSettings(config({ proxy: { globalValue: 'http://proxy.corp:3128', workspaceValue: 'http://x:y@evil:3128' } }), true);
    assert.equal(initializationOptions(workspace, undefined).proxy, undefined);
    assert.equal(toServerSettings(workspace).proxy, 'http://x:y@evil:3128');
    const plain = readSettings(config({ proxy: { workspaceValue: 'http://proxy.corp:3128' } }), true);
    assert.equal(toServerSettings(plain, 'init').proxy, 'http://proxy.corp:3128');
    assert.equal(toServerSettings(plain).proxy, 'http://proxy.corp:3128');
  });

  it('drops bad values', () => {
    const c = config({
      baseUrl: { globalValue: '  ' },
      apiStyle: { globalValue: 'telepathy' },
      maxTokens: { globalValue: -3 },
      enable: { globalValue: { python: true, markdown: 'no' } },
      serverCommand: { globalValue: [] },
    });
    assert.deepEqual(readSettings(c, true), { enable: { python: true } });
  });

  it('pricing and budget reach the server; bad entries are dropped', () => {
    const c = config({
      pricing: { globalValue: { good: { input: 0.15, output: 0.6 }, bad: { input: -1, output: 1 }, half: { input: 1 } } },
      budget: { globalValue: { dailyCost: 2, dailyTokens: 'many' } },
    });
    const settings = readSettings(c, true);
    assert.deepEqual(toServerSettings(settings), { pricing: { good: { input: 0.15, output: 0.6 } }, budget: { dailyCost: 2 } });
  });

  it('reads every key', () => {
    const c = config({
      baseUrl: { globalValue: ' http://127.0.0.1:1/v1 ' },
      model: { globalValue: 'm' },
      apiStyle: { globalValue: 'fim' },
      maxTokens: { globalValue: 64.7 },
      enable: { globalValue: { '*': false, python: true } },
      serverCommand: { globalValue: ['/venv/bin/python', '-m', 'inkstream', 'serve'] },
    });
    assert.deepEqual(readSettings(c, true), {
      baseUrl: 'http://127.0.0.1:1/v1',
      model: 'm',
      apiStyle: 'fim',
      maxTokens: 64,
      enable: { '*': false, python: true },
      serverCommand: ['/venv/bin/python', '-m', 'inkstream', 'serve'],
    });
  });
});

describe('mapping to the server (protocol.md "Settings")', () => {
  const settings = {
    baseUrl: 'http://h/v1',
    model: 'm',
    apiStyle: 'chat' as const,
    maxTokens: 32,
    enable: { python: false },
    serverCommand: ['x', 'serve'],
  };

  it('server keys are camelCase and the server command is not sent', () => {
    assert.deepEqual(toServerSettings(settings), { baseUrl: 'http://h/v1', model: 'm', apiStyle: 'chat', maxTokens: 32, enable: { python: false } });
  });

  it('initializationOptions carries the key from secret storage only when set', () => {
    assert.equal(initializationOptions({}, undefined).apiKey, undefined);
    assert.deepEqual(initializationOptions({ model: 'm' }, 'sk-1'), { model: 'm', apiKey: 'sk-1' });
  });

  it('a removed setting needs a restart, a changed one does not', () => {
    assert.equal(needsRestart({ baseUrl: 'a', model: 'm' }, { baseUrl: 'b', model: 'm' }), false);
    assert.equal(needsRestart({ baseUrl: 'a' }, {}), true);
    assert.equal(needsRestart({}, { model: 'm' }), false);
  });
});

describe('enable per language', () => {
  it('language, then "*", then on', () => {
    assert.equal(isLanguageEnabled(undefined, 'python'), true);
    assert.equal(isLanguageEnabled({ '*': false }, 'python'), false);
    assert.equal(isLanguageEnabled({ '*': false, python: true }, 'python'), true);
    assert.equal(isLanguageEnabled({ markdown: false }, 'python'), true);
    assert.equal(isLanguageEnabled({ markdown: false }, 'markdown'), false);
  });
});

describe('server command', () => {
  it('expands ${workspaceFolder}, ${userHome} and ~', () => {
    assert.deepEqual(expandCommand(['~/venv/bin/python', '${workspaceFolder}/s.py', '${userHome}/x', 'a~b'], { workspaceFolder: '/w', home: '/h' }), [
      '/h/venv/bin/python',
      '/w/s.py',
      '/h/x',
      'a~b',
    ]);
  });

  it('python -m inkstream serve, its --version check and install hint', () => {
    const command = pythonServerCommand('/opt/my env/bin/python');
    assert.deepEqual(command, ['/opt/my env/bin/python', '-m', 'inkstream', 'serve']);
    assert.deepEqual(versionCommand(command), ['/opt/my env/bin/python', '-m', 'inkstream', '--version']);
    assert.equal(installCommand(command), `'/opt/my env/bin/python' -m pip install inkstream`);
    assert.deepEqual(versionCommand(['inkstream', 'serve', '--tcp', 'x']), ['inkstream', '--version']);
    assert.equal(versionCommand(['my-wrapper']), undefined);
    assert.equal(installCommand(['inkstream', 'serve']), 'python3 -m pip install inkstream');
  });
});
