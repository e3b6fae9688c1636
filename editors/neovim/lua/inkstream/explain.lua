-- :InkstreamExplain: stream inkstream/explain {delta}s into a scratch markdown split.
-- :InkstreamStop, q, <C-c> or closing the split cancel the request ($/cancelRequest): the model stops.
local M = {}

local api = vim.api
local client = require('inkstream.client')
local run -- {buf, handle, started}

local DEF = { 'def', 'function', 'func', 'fn', 'fun', 'sub', 'proc', 'method' }

local function is_def(text)
  for _, word in ipairs(DEF) do
    if text:find('%f[%w_]' .. word .. '%f[^%w_]') then
      return true
    end
  end
  return false
end

local function indent(text)
  if text:match('^%s*$') then
    return nil
  end
  return #text:match('^%s*')
end

-- The function around `row` (1-based) by indentation: the nearest enclosing line that defines one,
-- down to the last line indented deeper, plus a closing line (`}`, `end`). Without one: the paragraph.
local function function_lines(lines, row)
  while row > 1 and not indent(lines[row]) do
    row = row - 1
  end
  local start, limit = nil, indent(lines[row]) or 0
  for i = row, 1, -1 do
    local ind = indent(lines[i])
    if ind and (i == row or ind < limit) then
      limit = ind
      if is_def(lines[i]) then
        start = i
        break
      end
    end
  end
  if not start then
    start = row
    while start > 1 and indent(lines[start - 1]) do
      start = start - 1
    end
    local last = row
    while last < #lines and indent(lines[last + 1]) do
      last = last + 1
    end
    return start, last
  end
  local base, last = indent(lines[start]), start
  for i = start + 1, #lines do
    local ind = indent(lines[i])
    if ind and ind <= base then
      if lines[i]:match('^%s*[%]})]') or lines[i]:match('^%s*end%f[^%w_]') then
        last = i
      end
      break
    elseif ind then
      last = i
    end
  end
  return start, last
end

local function treesitter_lines(buf, row)
  local ok, parser = pcall(vim.treesitter.get_parser, buf)
  if not ok or not parser then
    return nil
  end
  local tree = parser:parse()[1]
  local col = #(api.nvim_buf_get_lines(buf, row - 1, row, true)[1]:match('^%s*'))
  local node = tree and tree:root():named_descendant_for_range(row - 1, col, row - 1, col)
  while node do
    local t = node:type()
    if t:find('function') or t:find('method') then
      local s, _, e, ecol = node:range()
      return s + 1, ecol == 0 and e or e + 1
    end
    node = node:parent()
  end
end

--- Lines (1-based, inclusive) of the function at the cursor.
function M.current_function(buf, row)
  local s, e = treesitter_lines(buf, row)
  if s then
    return s, e
  end
  return function_lines(api.nvim_buf_get_lines(buf, 0, -1, true), row)
end

local function append(buf, text)
  if not api.nvim_buf_is_valid(buf) then
    return
  end
  local last = api.nvim_buf_line_count(buf) - 1
  local tail = api.nvim_buf_get_lines(buf, last, last + 1, true)[1]
  api.nvim_buf_set_text(buf, last, #tail, last, #tail, vim.split(text, '\n', true))
  for _, win in ipairs(api.nvim_list_wins()) do
    if api.nvim_win_get_buf(win) == buf and win ~= api.nvim_get_current_win() then
      api.nvim_win_set_cursor(win, { api.nvim_buf_line_count(buf), 0 })
    end
  end
end

local function finish(r, why)
  if run ~= r then
    return
  end
  run = nil
  local at = os.date('%H:%M:%S')
  append(r.buf, string.format('\n\n---\n_%s at %s, after %.1f s._', why, at, (vim.loop.hrtime() - r.started) / 1e9))
end

--- Stop the running explanation (the model stops) and say so at the end of the split.
function M.stop()
  local r = run
  if r and r.handle then
    r.handle.cancel()
    finish(r, 'Stopped')
  end
end

local function open_split()
  local buf = api.nvim_create_buf(false, true)
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].swapfile = false
  vim.bo[buf].filetype = 'markdown'
  vim.cmd('botright split')
  api.nvim_win_set_buf(0, buf)
  vim.wo.wrap = true
  vim.wo.linebreak = true
  local opts = { buffer = buf, silent = true }
  vim.keymap.set('n', 'q', function()
    M.stop()
    vim.cmd('close')
  end, opts)
  vim.keymap.set('n', '<C-c>', M.stop, opts)
  api.nvim_create_autocmd({ 'BufWipeout', 'BufHidden' }, { buffer = buf, callback = M.stop })
  return buf
end

--- Explain lines {first, last} (1-based) of the current buffer, or the function at the cursor.
function M.start(range)
  local src = api.nvim_get_current_buf()
  local lsp = client.get(src)
  if not lsp then
    vim.notify('inkstream: no server attached to this buffer (setup() and an enabled filetype)', vim.log.levels.WARN)
    return
  end
  M.stop()
  local first, last
  if range then
    first, last = range[1], range[2]
  else
    first, last = M.current_function(src, api.nvim_win_get_cursor(0)[1])
  end
  local tail = api.nvim_buf_get_lines(src, last - 1, last, true)[1]
  local enc = lsp.offset_encoding or 'utf-16'
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(src) },
    range = {
      start = { line = first - 1, character = 0 },
      ['end'] = { line = last - 1, character = vim.lsp.util.character_offset(src, last - 1, #tail, enc) },
    },
  }
  local r = { started = vim.loop.hrtime() }
  r.buf = open_split()
  api.nvim_buf_set_lines(r.buf, 0, -1, true, {
    string.format('# %s, lines %d-%d', vim.fn.fnamemodify(api.nvim_buf_get_name(src), ':t'), first, last),
    '',
    '',
  })
  run = r
  r.handle = client.request(src, 'inkstream/explain', params, function(value)
    if run == r and type(value) == 'table' and value.delta then
      append(r.buf, value.delta)
    end
  end, function(err)
    r.handle = nil
    finish(r, err and ('Failed: ' .. err.message) or 'Done')
  end)
  if not r.handle then
    finish(r, 'Failed: the server is not running')
  end
end

return M
