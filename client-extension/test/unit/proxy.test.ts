import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noProxyEntries, proxyVars, readHttpSettings, serverProxyEnv, type Env } from '../../src/proxy';
import type { ConfigurationLike, InspectResult } from '../../src/settings';

function config(values: Record<string, InspectResult<unknown>>): ConfigurationLike {
  return { inspect: <T>(key: string) => values[key] as InspectResult<T> | undefined };
}

const CORP = 'http://proxy.corp:3128';
const USER_ENV: Env = { PATH: '/usr/bin', HOME: '/home/me' };

/** The proxy variables of an environment, lower-cased, as the server's httpx reads them. */
function proxies(env: Env): Record<string, string | undefined> {
  return { https: env.https_proxy, http: env.http_proxy, no: env.no_proxy, HTTPS: env.HTTPS_PROXY, NO: env.NO_PROXY };
}

describe("VS Code's http.proxy as the fallback for inkstream.proxy", () => {
  it('user-level http.proxy reaches the server as HTTPS_PROXY/HTTP_PROXY, loopback stays direct', () => {
    const { env, note } = serverProxyEnv(USER_ENV, undefined, { proxy: CORP });
    assert.deepEqual(proxies(env), {
      https: CORP,
      http: CORP,
      no: 'localhost,127.0.0.1,::1',
      HTTPS: CORP,
      NO: 'localhost,127.0.0.1,::1',
    });
    assert.equal(env.PATH, '/usr/bin');
    assert.match(note, /http\.proxy http:\/\/proxy\.corp:3128/);
  });

  it('inkstream.proxy wins, and so does INKSTREAM_PROXY: the environment is left as it is', () => {
    const base = { ...USER_ENV, HTTPS_PROXY: 'http://env:1' };
    assert.deepEqual(serverProxyEnv(base, 'http://mine:8080', { proxy: CORP }).env, base);
    const withVar = { ...base, INKSTREAM_PROXY: 'http://var:8080' };
    assert.deepEqual(serverProxyEnv(withVar, undefined, { proxy: CORP }).env, withVar);
  });

  it('http.proxySupport "off" means no proxy from VS Code settings; the environment still applies', () => {
    const base = { ...USER_ENV, HTTPS_PROXY: 'http://env:1', NO_PROXY: 'intra' };
    const { env, note } = serverProxyEnv(base, undefined, { proxy: CORP, proxySupport: 'off' });
    assert.deepEqual(env, base);
    assert.match(note, /proxySupport is off/);
    for (const support of ['on', 'override', 'fallback', undefined]) {
      assert.equal(serverProxyEnv(base, undefined, { proxy: CORP, proxySupport: support }).env.HTTPS_PROXY, CORP);
    }
  });

  it('without http.proxy the environment is untouched (HTTPS_PROXY/NO_PROXY keep working)', () => {
    const base = { ...USER_ENV, https_proxy: 'http://env:1', no_proxy: 'intra' };
    for (const proxy of [undefined, '', '   ', null, 42]) {
      assert.deepEqual(serverProxyEnv(base, undefined, { proxy }).env, base);
    }
  });

  it('the setting overrides proxy variables in either case (lower case wins in Python)', () => {
    const base = { ...USER_ENV, https_proxy: 'http://old:1', HTTP_PROXY: 'http://old:2', No_Proxy: 'x' };
    const { env } = serverProxyEnv(base, undefined, { proxy: CORP });
    assert.deepEqual(
      Object.keys(env).filter((k) => /_proxy$/i.test(k)).sort(),
      ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'],
    );
    assert.ok(Object.values(env).every((v) => !v?.includes('old')));
  });

  it("credentials: the user's own http.proxy, else INKSTREAM_PROXY_USER/PASSWORD (encoded); never in the note", () => {
    const own = serverProxyEnv(USER_ENV, undefined, { proxy: 'http://me:pw@proxy.corp:3128' });
    assert.equal(own.env.HTTPS_PROXY, 'http://me:pw@proxy.corp:3128');
    assert.doesNotMatch(own.note, /pw|me:/);
    assert.match(own.note, /with credentials/);
    const fromEnv = { ...USER_ENV, INKSTREAM_PROXY_USER: 'dom\\me', INKSTREAM_PROXY_PASSWORD: 's3cret/with:odd@chars' };
    const folded = serverProxyEnv(fromEnv, undefined, { proxy: CORP });
    assert.equal(folded.env.HTTPS_PROXY, 'http://dom%5Cme:s3cret%2Fwith%3Aodd%40chars@proxy.corp:3128');
    assert.equal(new URL(folded.env.HTTPS_PROXY ?? '').password, 's3cret%2Fwith%3Aodd%40chars');
    assert.doesNotMatch(folded.note, /s3cret/);
    // Credentials already in the user's URL are kept as they are.
    assert.equal(serverProxyEnv(fromEnv, undefined, { proxy: 'http://a:b@p:1' }).env.HTTPS_PROXY, 'http://a:b@p:1');
  });

  it('a proxy the server cannot use is left out and named by scheme only', () => {
    const socks = serverProxyEnv(USER_ENV, undefined, { proxy: 'socks5://me:pw@127.0.0.1:1080' });
    assert.deepEqual(socks.env, USER_ENV);
    assert.match(socks.note, /a socks5:\/\/ proxy, which inkstream does not support/);
    assert.doesNotMatch(socks.note, /pw/);
    const noScheme = serverProxyEnv(USER_ENV, undefined, { proxy: 'me:pw@proxy.corp:3128' });
    assert.deepEqual(noScheme.env, USER_ENV);
    assert.match(noScheme.note, /not an http:\/\/ or https:\/\/ URL/);
    assert.doesNotMatch(noScheme.note, /me|pw/);
    const junk = serverProxyEnv(USER_ENV, undefined, { proxy: 'proxy.corp:3128 me:pw' });
    assert.deepEqual(junk.env, USER_ENV);
    assert.doesNotMatch(junk.note, /pw/);
  });

  it('http.noProxy replaces NO_PROXY (as in VS Code); the environment NO_PROXY applies when it is empty', () => {
    const base = { ...USER_ENV, NO_PROXY: 'intra.corp, .lab' };
    const configured = serverProxyEnv(base, undefined, { proxy: CORP, noProxy: ['.example.com', 'git.corp:8443', ' '] });
    assert.equal(configured.env.NO_PROXY, 'example.com,git.corp:8443,localhost,127.0.0.1,::1');
    assert.equal(serverProxyEnv(base, undefined, { proxy: CORP, noProxy: [] }).env.NO_PROXY, 'intra.corp,.lab,localhost,127.0.0.1,::1');
    assert.deepEqual(noProxyEntries({ no_proxy: 'a', NO_PROXY: 'b' }, 'not-a-list'), ['a']);
    assert.deepEqual(noProxyEntries({}, ['*']), ['*']);
  });

  it('only user-level http settings are read; a workspace http.proxy is ignored and said so', () => {
    const c = config({
      proxy: { globalValue: CORP, workspaceValue: 'http://me:pw@evil:1' },
      noProxy: { globalValue: ['intra'], workspaceValue: ['*'] },
      proxySupport: { globalValue: undefined, workspaceValue: 'off' },
    });
    const http = readHttpSettings(c);
    assert.deepEqual(http, { proxy: CORP, noProxy: ['intra'], proxySupport: undefined, workspaceProxy: true });
    const { env, note } = serverProxyEnv(USER_ENV, undefined, http);
    assert.equal(env.HTTPS_PROXY, CORP);
    assert.match(note, /workspace http\.proxy is ignored/);
    assert.doesNotMatch(note, /evil|pw/);
    const workspaceOnly = readHttpSettings(config({ proxy: { workspaceFolderValue: 'http://me:pw@evil:1' } }));
    assert.deepEqual(serverProxyEnv(USER_ENV, undefined, workspaceOnly).env, USER_ENV);
  });

  it('a change of the proxy variables is seen (it needs a restart), other variables are not', () => {
    const before = serverProxyEnv(USER_ENV, undefined, { proxy: CORP }).env;
    assert.equal(proxyVars(before), proxyVars({ ...before, PATH: '/other' }));
    assert.notEqual(proxyVars(before), proxyVars(serverProxyEnv(USER_ENV, undefined, { proxy: 'http://other:1' }).env));
    assert.notEqual(proxyVars(before), proxyVars(USER_ENV));
  });
});
