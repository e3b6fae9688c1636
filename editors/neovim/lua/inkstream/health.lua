-- :checkhealth inkstream
local M = {}

local client = require('inkstream.client')
local h = vim.health or {}
-- 0.10+: vim.health.start/ok/...; 0.8-0.9: vim.health.report_*; 0.7: health#report_*.
local function pick(new)
  return h[new] or h['report_' .. new] or function(msg)
    vim.fn['health#report_' .. new](msg)
  end
end
local start, ok, warn, err, info = pick('start'), pick('ok'), pick('warn'), pick('error'), pick('info')

local function version_string()
  local v = vim.version()
  return string.format('%d.%d.%d', v.major, v.minor, v.patch)
end

-- Start a throwaway server with the same options, wait for `initialize`, ask inkstream/status.
local function probe(cfg)
  local init, exited
  local lsp = client.lsp_config(cfg, 'inkstream-health')
  lsp.on_init = function(_, result)
    init = result
  end
  lsp.on_exit = function(code)
    exited = code
  end
  local id
  if vim.fn.has('nvim-0.10') == 1 then
    id = vim.lsp.start(lsp, { attach = false })
  else
    id = vim.lsp.start_client(lsp)
  end
  local c = id and vim.lsp.get_client_by_id(id)
  if not c then
    return nil, 'the server could not be started'
  end
  vim.wait(15000, function()
    return init ~= nil or exited ~= nil
  end, 20)
  if not init then
    client.call(c, 'stop')
    return nil, exited and ('the server exited with code ' .. exited) or 'no answer to initialize within 15 s'
  end
  local res = client.call(c, 'request_sync', 'inkstream/status', {}, 5000, 0)
  client.call(c, 'stop')
  return init, res and res.result
end

function M.check()
  local cfg = require('inkstream').config
  start('inkstream')
  if vim.fn.has('nvim-0.7') == 1 then
    ok('Neovim ' .. version_string())
  else
    err('Neovim ' .. version_string() .. ': inkstream needs 0.7 or later')
  end
  local path = vim.fn.exepath('inkstream')
  if path ~= '' then
    ok(string.format('inkstream on PATH: %s (%s)', path, vim.trim(vim.fn.system({ path, '--version' }))))
  elseif cfg.cmd[1] ~= 'inkstream' then
    info('inkstream is not on PATH; cmd is ' .. table.concat(cfg.cmd, ' '))
  else
    err('inkstream is not on PATH: pip install inkstream (or set cmd in setup())')
  end
  if vim.fn.executable(cfg.cmd[1]) ~= 1 then
    err('cmd is not executable: ' .. table.concat(cfg.cmd, ' '))
    return
  end
  local init, status = probe(cfg)
  if not init then
    err('server: ' .. tostring(status))
    return
  end
  local server = init.serverInfo or {}
  ok(string.format('server starts and answers initialize: %s %s', server.name or '?', server.version or '?'))
  if type(status) ~= 'table' then
    warn('no answer to inkstream/status')
    return
  end
  local base = status.baseUrl ~= vim.NIL and status.baseUrl or 'none (offline model)'
  ok(string.format('provider %s, endpoint %s, model %s', status.provider, base, status.model))
  if status.lastError ~= vim.NIL and status.lastError then
    warn('last error: ' .. status.lastError)
  end
  if not client.get() then
    info('setup() has not started a server yet (it starts on the first buffer of an enabled filetype)')
  end
end

return M
