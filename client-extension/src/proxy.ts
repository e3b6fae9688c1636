/**
 * VS Code's own proxy settings (`http.proxy`, `http.noProxy`, `http.proxySupport`) as a fallback
 * for `inkstream.proxy`. Pure: settings and environment are passed in, the server's environment
 * comes out.
 *
 * The fallback is handed to the server as `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` in its
 * environment, not as its `proxy` setting: the server honours `NO_PROXY` only for a proxy from
 * the environment (an explicit `proxy` goes to every host), and VS Code itself never proxies
 * loopback hosts or hosts in `http.noProxy`. A user with a local model and a corporate
 * `http.proxy` would otherwise see inkstream send 127.0.0.1 requests to the corporate proxy.
 */

import type { ConfigurationLike } from './settings';

/** User-level (global) values of the `http` section: the only level VS Code applies them at. */
export interface HttpSettings {
  proxy?: unknown;
  noProxy?: unknown;
  proxySupport?: unknown;
  /** True when a workspace or folder also sets `http.proxy` (ignored, like VS Code does). */
  workspaceProxy?: boolean;
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface ServerProxy {
  /** The server's environment. */
  env: Record<string, string | undefined>;
  /** What decided the proxy, for the output channel: never credentials. */
  note: string;
}

/** VS Code always connects to these directly (vscode-proxy-agent's `useProxySettings`). */
const LOOPBACK = ['localhost', '127.0.0.1', '::1'];
const PROXY_VARS = ['https_proxy', 'http_proxy', 'no_proxy'];

/** Reads `workspace.getConfiguration('http')` through inspect(): user-level values only. */
export function readHttpSettings(config: ConfigurationLike): HttpSettings {
  const proxy = config.inspect<unknown>('proxy');
  return {
    proxy: proxy?.globalValue,
    noProxy: config.inspect<unknown>('noProxy')?.globalValue,
    proxySupport: config.inspect<unknown>('proxySupport')?.globalValue,
    workspaceProxy: proxy?.workspaceValue !== undefined || proxy?.workspaceFolderValue !== undefined,
  };
}

/** `scheme://host:port` of a proxy URL, never its credentials. */
export function shownProxy(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/**
 * The server's environment: `base` unchanged unless VS Code's `http.proxy` applies, i.e. when
 * neither `inkstream.proxy` nor `INKSTREAM_PROXY` is set, `http.proxySupport` is not `off`, and the
 * user-level `http.proxy` is an http(s) URL. Credentials: those in the user's own `http.proxy`, else
 * `INKSTREAM_PROXY_USER`/`INKSTREAM_PROXY_PASSWORD` from the environment (as the server does for
 * `inkstream.proxy`). `NO_PROXY`: `http.noProxy` if set, else the environment's, plus loopback.
 */
export function serverProxyEnv(base: Env, inkstreamProxy: string | undefined, http: HttpSettings): ServerProxy {
  const env: Record<string, string | undefined> = { ...base };
  const ignoredWorkspace = http.workspaceProxy ? ' (a workspace http.proxy is ignored: only user settings count)' : '';
  if (inkstreamProxy) {
    return { env, note: 'proxy: inkstream.proxy' };
  }
  if (base.INKSTREAM_PROXY) {
    return { env, note: 'proxy: INKSTREAM_PROXY from the environment' };
  }
  const fromEnv = `HTTPS_PROXY/NO_PROXY from the environment apply${ignoredWorkspace}`;
  if (http.proxySupport === 'off') {
    return { env, note: `proxy: http.proxySupport is off; ${fromEnv}` };
  }
  if (typeof http.proxy !== 'string' || http.proxy.trim() === '') {
    return { env, note: `proxy: none in settings; ${fromEnv}` };
  }
  let url: URL;
  try {
    url = new URL(http.proxy.trim());
  } catch {
    return { env, note: `proxy: http.proxy is not a URL and is not used${ignoredWorkspace}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // The server speaks to http(s) proxies only. Name a known scheme, never the rest: in
    // `user:pw@host` the "scheme" is the user name.
    const what = /^socks[45]?[ah]?:$/.test(url.protocol) ? `a ${url.protocol}// proxy, which inkstream does not support` : 'not an http:// or https:// URL';
    return { env, note: `proxy: http.proxy is ${what}; it is not used` };
  }
  const user = base.INKSTREAM_PROXY_USER;
  if (!url.username && user) {
    url.username = encodeURIComponent(user);
    url.password = base.INKSTREAM_PROXY_PASSWORD ? encodeURIComponent(base.INKSTREAM_PROXY_PASSWORD) : '';
  }
  const proxy = url.href.replace(/\/$/, '');
  const noProxy = [...noProxyEntries(base, http.noProxy), ...LOOPBACK];
  for (const key of Object.keys(env)) {
    if (PROXY_VARS.includes(key.toLowerCase())) {
      delete env[key];
    }
  }
  const value = { https_proxy: proxy, http_proxy: proxy, no_proxy: [...new Set(noProxy)].join(',') };
  for (const [key, v] of Object.entries(value)) {
    env[key] = v;
    env[key.toUpperCase()] = v;
  }
  const auth = url.username ? ' with credentials' : '';
  return { env, note: `proxy: VS Code's http.proxy ${shownProxy(url)}${auth}${ignoredWorkspace}` };
}

/**
 * `http.noProxy` in the server's `NO_PROXY` form, or the environment's `NO_PROXY` when it is empty
 * (VS Code uses one or the other). VS Code matches `example.com` and `.example.com` alike (the
 * host and its subdomains), which is what the server's `NO_PROXY` does with `example.com`.
 */
export function noProxyEntries(base: Env, noProxy: unknown): string[] {
  const configured = Array.isArray(noProxy)
    ? noProxy.filter((item): item is string => typeof item === 'string').map((item) => item.trim().toLowerCase())
    : [];
  const entries = configured.filter((item) => item !== '').map((item) => (item.startsWith('.') ? item.slice(1) : item));
  if (entries.length > 0) {
    return entries;
  }
  const fromEnv = base.no_proxy ?? base.NO_PROXY ?? '';
  return fromEnv
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** The proxy variables of an environment, to tell whether a change needs a server restart. */
export function proxyVars(env: Env): string {
  const vars = Object.entries(env).filter(([key]) => PROXY_VARS.includes(key.toLowerCase()));
  return JSON.stringify(vars.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
