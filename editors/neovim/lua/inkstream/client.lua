-- The server through Neovim's own LSP client: start, attach, streamed requests, status.
-- Partial results and work-done reports arrive as $/progress; the default handler cannot tell
-- them apart, so ours routes each token to the request that chose it.
local M = { id = nil, last_error = nil, note = nil, streams = {} }

local api = vim.api
local uv = vim.loop
local config
local routes = {} -- progress token -> function(value)
local counter = 0
local warned = {} -- messages shown once (missing command, server exit)

-- 0.11 made client methods take self; earlier versions use plain fields.
local method_style = vim.fn.has('nvim-0.11') == 1
local function call(client, name, ...)
  if method_style then
    return client[name](client, ...)
  end
  return client[name](...)
end
M.call = call

local function notify_once(key, msg, level)
  if not warned[key] then
    warned[key] = true
    vim.notify(msg, level or vim.log.levels.ERROR)
  end
end

local function on_progress(err, result, ctx, cfg)
  local token = result and result.token
  if routes[token] then
    routes[token](result.value)
    return vim.NIL
  end
  if type(token) == 'string' and token:find('^inkstream%-') then
    return vim.NIL -- ours, after cancel: the default handler would complain about `end` without `begin`
  end
  return vim.lsp.handlers['$/progress'](err, result, ctx, cfg)
end

-- The server shows each distinct problem once; one notification per message, never per keystroke.
local function on_show_message(_, result)
  local levels = { vim.log.levels.ERROR, vim.log.levels.WARN, vim.log.levels.INFO, vim.log.levels.INFO }
  vim.notify(result.message, levels[result.type] or vim.log.levels.INFO)
  return vim.NIL
end

--- The LSP client config for `cfg` (the plugin's options); `name` differs for the health check.
function M.lsp_config(cfg, name)
  local settings = vim.empty_dict() -- sent as a JSON object even when empty
  for k, v in pairs(vim.deepcopy(cfg.settings or {})) do
    settings[k] = v
  end
  settings.apiKey = nil -- the key comes from the environment only
  return {
    name = name or 'inkstream',
    cmd = cfg.cmd,
    root_dir = cfg.root_dir or vim.fn.getcwd(),
    init_options = settings,
    settings = { inkstream = settings },
    handlers = { ['$/progress'] = on_progress, ['window/showMessage'] = on_show_message },
    on_exit = function(code, signal)
      if name == nil and (code ~= 0 or signal ~= 0) then
        vim.schedule(function()
          notify_once('exit', string.format('inkstream: the server exited (code %d, signal %d)', code, signal))
        end)
      end
    end,
  }
end

local function enabled(buf)
  local ft = vim.bo[buf].filetype
  local fts = config.filetypes
  if vim.bo[buf].buftype ~= '' or ft == '' then
    return false
  end
  if fts[ft] ~= nil then
    return fts[ft] and true or false
  end
  return fts['*'] == true
end
M.enabled = function(buf)
  return config ~= nil and enabled(buf)
end

--- Run `fn` once typing pauses for `delay` ms in the current buffer, if that buffer is still
--- current and unchanged then (`timer` is the caller's: a new pause restarts it).
function M.after_pause(timer, delay, fn)
  local buf = api.nvim_get_current_buf()
  if not M.enabled(buf) then
    return
  end
  local tick = api.nvim_buf_get_changedtick(buf)
  timer:stop()
  timer:start(
    delay,
    0,
    vim.schedule_wrap(function()
      if api.nvim_get_current_buf() == buf and api.nvim_buf_get_changedtick(buf) == tick then
        fn()
      end
    end)
  )
end

function M.attach(buf)
  if not M.enabled(buf) then
    return
  end
  if vim.fn.executable(config.cmd[1]) ~= 1 then
    notify_once('cmd', string.format('inkstream: `%s` is not executable; pip install inkstream, or set cmd', config.cmd[1]))
    return
  end
  local lsp = M.lsp_config(config)
  if vim.lsp.start then
    M.id = vim.lsp.start(lsp, { bufnr = buf })
  else
    if not (M.id and vim.lsp.get_client_by_id(M.id)) then
      M.id = vim.lsp.start_client(lsp)
    end
    if M.id then
      vim.lsp.buf_attach_client(buf, M.id)
    end
  end
end

function M.setup(cfg)
  config = cfg
  local group = api.nvim_create_augroup('inkstream_attach', { clear = true })
  api.nvim_create_autocmd('FileType', {
    group = group,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  for _, buf in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(buf) then
      M.attach(buf)
    end
  end
end

--- The initialized client attached to `buf` (any buffer when nil), if any.
function M.get(buf)
  local client = M.id and vim.lsp.get_client_by_id(M.id)
  if client and client.initialized and (buf == nil or vim.lsp.buf_is_attached(buf, M.id)) then
    return client
  end
end

local function parse_report(message)
  local tokens, rate = (message or ''):match('(%d+) tokens?, ([%d.]+) tok/s')
  return tonumber(tokens), tonumber(rate)
end

--- Send `method` with fresh partial-result and work-done tokens. `on_partial(value)` gets each
--- $/progress value; `on_done(err, result)` gets the answer (never called after cancel()).
--- Returns a handle with `cancel()`, or nil when no server is attached.
function M.request(buf, method, params, on_partial, on_done)
  local client = M.get(buf)
  if not client then
    return nil
  end
  counter = counter + 1
  local tag = string.format('inkstream-%d-%d', uv.os_getpid(), counter)
  local stream = { tokens = 0, rate = 0 }
  local handle = { stream = stream }
  params.partialResultToken = tag .. '-partial'
  params.workDoneToken = tag .. '-work'
  local function finish()
    routes[params.partialResultToken] = nil
    routes[params.workDoneToken] = nil
    M.streams[stream] = nil
  end
  routes[params.partialResultToken] = on_partial
  routes[params.workDoneToken] = function(value)
    if value.kind == 'report' then
      stream.tokens, stream.rate = parse_report(value.message)
      stream.note = not stream.tokens and value.message or nil -- what it waits for
    elseif value.kind == 'end' and method ~= 'inkstream/nextEdit' then
      -- why a completion is empty, as the server says it ("no completion: …")
      local message = value.message or ''
      M.note = message:match('^no completion') and message or nil
    end
  end
  M.streams[stream] = true
  local ok, id = call(client, 'request', method, params, function(err, result)
    if handle.cancelled then
      return
    end
    finish()
    -- -32800 (cancelled by us), -32802 (superseded) and -32601 (a server without the method) are not problems
    if err and err.code ~= -32800 and err.code ~= -32802 and err.code ~= -32601 then
      M.last_error = err.message
    elseif not err then
      M.last_error = nil
    end
    on_done(err, result)
  end, buf)
  if not ok then
    finish()
    return nil
  end
  function handle.cancel()
    if not handle.cancelled then
      handle.cancelled = true
      finish()
      call(client, 'cancel_request', id)
    end
  end
  return handle
end

--- A short string for statuslines: idle, streaming (tokens, tok/s), or the last error.
function M.status()
  if not M.get() then
    return 'inkstream: off'
  end
  local stream = next(M.streams)
  if stream then
    if stream.note then
      return 'inkstream: ' .. stream.note
    end
    return string.format('inkstream: %d tok, %.0f tok/s', stream.tokens or 0, stream.rate or 0)
  end
  if M.last_error then
    return 'inkstream: error: ' .. M.last_error
  end
  if M.note then
    return 'inkstream: ' .. M.note
  end
  return 'inkstream: idle'
end

--- :InkstreamStatus: what the server says it uses (inkstream/status).
function M.show_status()
  local client = M.get()
  if not client then
    vim.notify('inkstream: not running (call setup() and open a file of an enabled filetype)')
    return
  end
  local res = call(client, 'request_sync', 'inkstream/status', {}, 5000, 0)
  local s = res and res.result
  if not s then
    vim.notify('inkstream: the server did not answer inkstream/status', vim.log.levels.WARN)
    return
  end
  local function text(v, none) -- JSON null is nil or vim.NIL, depending on the version
    return (v == nil or v == vim.NIL) and none or tostring(v)
  end
  local lines = {
    M.status(),
    'provider: ' .. text(s.provider, '?'),
    'endpoint: ' .. text(s.baseUrl, '(none)'),
    'model:    ' .. text(s.model, '?'),
    'last error: ' .. text(s.lastError, 'none'),
    'last completion: ' .. text(s.emptyReason, 'not empty'),
  }
  vim.notify(table.concat(lines, '\n'))
end

return M
