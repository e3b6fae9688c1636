-- Ghost text that grows while the model writes.
-- One inkstream/inlineCompletion request at a time. Each $/progress snapshot replaces the text,
-- and the one extmark is moved and redrawn in place (same id: no blink). Typing what the
-- suggestion starts with keeps the request running (the rest is drawn after the cursor);
-- anything else cancels it ($/cancelRequest), so the model stops.
-- While the popup menu is open (<C-n>, an auto-completion plugin) there is no ghost text: opening
-- it cancels the request, nothing is asked for under it, and a fresh request follows when it closes.
local M = {}

local api = vim.api
local client = require('inkstream.client')
local ns = api.nvim_create_namespace('inkstream')
M.ns = ns
local has_inline = vim.fn.has('nvim-0.10') == 1
local timer = vim.loop.new_timer()
local config
local s -- the suggestion: {buf, row, col, before, after, text, done, handle, mark}
local accepted = false -- the next text change is our own insert: no new trigger

-- The insert-mode popup menu is open: ghost text would sit under it and Tab belongs to it.
local function pum()
  return vim.fn.pumvisible() == 1
end

local function cursor()
  local pos = api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function line(buf, row)
  return api.nvim_buf_get_lines(buf, row, row + 1, true)[1]
end

local function item_text(list)
  local items = type(list) == 'table' and (list.items or list) or {}
  local item = items[1]
  if type(item) ~= 'table' then
    return nil
  end
  local text = item.insertText
  return type(text) == 'table' and text.value or text
end

-- What the user typed since the request, or nil if the cursor left the suggestion's path.
local function typed(st)
  if api.nvim_get_current_buf() ~= st.buf or api.nvim_get_mode().mode:sub(1, 1) ~= 'i' then
    return nil
  end
  local row, col = cursor()
  if row < st.row or (row == st.row and col < st.col) then
    return nil
  end
  if line(st.buf, st.row):sub(1, st.col) ~= st.before or line(st.buf, row):sub(col + 1) ~= st.after then
    return nil
  end
  return table.concat(api.nvim_buf_get_text(st.buf, st.row, st.col, row, col, {}), '\n')
end

-- The part of the suggestion still to show, or nil if what was typed does not match it.
local function rest()
  local t = s and typed(s)
  if t == nil then
    return nil
  end
  if s.text:sub(1, #t) == t then
    return s.text:sub(#t + 1)
  end
  if not s.done and t:sub(1, #s.text) == s.text then
    return '' -- typed ahead of the stream
  end
end

local function hide()
  if s and s.mark then
    pcall(api.nvim_buf_del_extmark, s.buf, ns, s.mark)
    s.mark = nil
  end
end

local function draw(text)
  local row, col = cursor()
  local lines = vim.split(text, '\n', true)
  local opts = { id = s.mark, hl_mode = 'combine', priority = 5000 }
  if lines[1] ~= '' then
    opts.virt_text = { { lines[1], 'InkstreamGhost' } }
    -- Neovim 0.7-0.9 have no inline virtual text: overlay at the end of the line, else after it.
    opts.virt_text_pos = has_inline and 'inline' or (col >= #line(s.buf, row) and 'overlay' or 'eol')
  end
  if #lines > 1 then
    opts.virt_lines = {}
    for i = 2, #lines do
      opts.virt_lines[i - 1] = { { lines[i], 'InkstreamGhost' } }
    end
  end
  s.mark = api.nvim_buf_set_extmark(s.buf, ns, row, col, opts)
end

--- Cancel the running request (the model stops) and clear the ghost text.
function M.dismiss()
  if s then
    if s.handle then
      s.handle.cancel()
    end
    hide()
    s = nil
  end
end

-- Bring the ghost text in line with the snapshot and the buffer: draw, hide, or dismiss.
local function update()
  if not s then
    return
  end
  local r = rest()
  if r == nil or pum() then
    M.dismiss()
  elseif r == '' then
    hide()
    if s.done then
      s = nil
    end
  else
    draw(r)
  end
end

--- Ask for a suggestion at the cursor now (kind 1: invoked, 2: automatic).
function M.trigger(kind)
  M.dismiss()
  timer:stop()
  if pum() then
    return
  end
  local buf = api.nvim_get_current_buf()
  local lsp = client.get(buf)
  if not lsp then
    return
  end
  local row, col = cursor()
  local text = line(buf, row)
  local params = vim.lsp.util.make_position_params(0, lsp.offset_encoding)
  params.context = { triggerKind = kind or 1 }
  local st = { buf = buf, row = row, col = col, before = text:sub(1, col), after = text:sub(col + 1), text = '' }
  s = st
  st.handle = client.request(buf, 'inkstream/inlineCompletion', params, function(value)
    if s == st then
      st.text = item_text(value) or st.text
      update()
    end
  end, function(err, result)
    if s ~= st then
      return
    end
    st.handle = nil
    st.done = true
    if err then
      M.dismiss()
    else
      st.text = item_text(result) or st.text
      update()
    end
  end)
  if not st.handle then
    s = nil
  end
end

--- Whether ghost text is shown.
function M.visible()
  return s ~= nil and s.mark ~= nil
end

-- Insert `text` at the cursor as one undo step and put the cursor at its end. The stream goes on:
-- what was inserted now counts as typed, so the rest keeps growing after the cursor.
local function insert(text)
  if text == '' then
    return false
  end
  local row, col = cursor()
  local lines = vim.split(text, '\n', true)
  vim.o.undolevels = vim.o.undolevels -- close the undo block: the insert is a step of its own
  api.nvim_buf_set_text(0, row, col, row, col, lines)
  api.nvim_win_set_cursor(0, { row + #lines, (#lines == 1 and col or 0) + #lines[#lines] })
  vim.o.undolevels = vim.o.undolevels
  accepted = true
  update()
  return true
end

local function shown()
  return M.visible() and rest() or ''
end

--- Accept all the ghost text shown. Returns false (and does nothing) when none is shown.
function M.accept()
  return insert(shown())
end

--- Accept the next word (with the spaces or line break before it).
function M.accept_word()
  local r = shown()
  return insert(r:match('^%s*[%w_]+') or r:match('^%s*[^%w_%s]+') or r)
end

--- Accept the rest of the suggestion's current line, and the line break after it.
function M.accept_line()
  return insert(shown():match('^\n?[^\n]*\n?'))
end

-- Ask for a suggestion once typing pauses (and the popup menu is closed).
local function schedule()
  if not config.auto_trigger then
    return
  end
  client.after_pause(timer, config.debounce_ms, function()
    if api.nvim_get_mode().mode:sub(1, 1) == 'i' and not pum() then
      M.trigger(2)
    end
  end)
end

local function on_text_changed()
  local was_ours = accepted
  accepted = false
  update()
  if not s and not was_ours then
    schedule()
  end
end

-- The popup menu opened, changed, or the text changed under it: no ghost text, no request.
local function on_popup()
  timer:stop()
  M.dismiss()
end

-- Maps that act only while ghost text (or a next edit) shows; otherwise the key does what it did.
local fallbacks = {}
M.fallbacks = fallbacks

local function fallback(prev, lhs, key)
  if vim.tbl_isempty(prev) then
    return lhs
  end
  if prev.callback then
    if prev.expr == 1 then
      return prev.callback()
    end
    fallbacks[key] = prev.callback
    return string.format('<Cmd>lua require("inkstream.ghost").fallbacks[%q]()<CR>', key)
  end
  local rhs = prev.rhs:gsub('<[Ss][Ii][Dd]>', '<SNR>' .. tostring(prev.sid) .. '_')
  if prev.expr == 1 then
    return vim.fn.eval(rhs)
  end
  return rhs
end

-- Map `lhs` in `mode`: `pick()` names the module and function to run, or nothing to fall back.
local function map_with(mode, lhs, pick)
  if not lhs or lhs == '' then
    return
  end
  local prev = vim.fn.maparg(lhs, mode, false, true)
  if prev.desc == 'inkstream' then
    prev = {} -- our own map from an earlier setup()
  end
  vim.keymap.set(mode, lhs, function()
    local module, action = pick()
    if module then
      return string.format('<Cmd>lua require("inkstream.%s").%s()<CR>', module, action)
    end
    return fallback(prev, lhs, mode .. lhs)
  end, { expr = true, silent = true, remap = prev.noremap == 0, desc = 'inkstream' })
end

local function nes_visible()
  return config.next_edit ~= false and require('inkstream.nes').visible()
end

-- Insert mode: ghost text first (it keeps priority), then the next edit (`nes_action`).
local function map(lhs, action, nes_action)
  map_with('i', lhs, function()
    if pum() then
      return nil
    end
    if M.visible() then
      return 'ghost', action
    end
    if nes_action and nes_visible() then
      return 'nes', nes_action
    end
  end)
end

--- A key that acts on the next edit in `mode` while one is shown (Normal mode's <Tab> and <Esc>),
--- and in Insert mode while no ghost text and no popup menu shows.
function M.map_nes(mode, lhs, action)
  map_with(mode, lhs, function()
    if mode == 'i' and (pum() or M.visible()) then
      return nil
    end
    if nes_visible() then
      return 'nes', action
    end
  end)
end

function M.setup(cfg)
  config = cfg
  local group = api.nvim_create_augroup('inkstream_ghost', { clear = true })
  api.nvim_create_autocmd('TextChangedI', { group = group, callback = on_text_changed })
  api.nvim_create_autocmd('CursorMovedI', { group = group, callback = update })
  api.nvim_create_autocmd({ 'CompleteChanged', 'TextChangedP' }, { group = group, callback = on_popup })
  -- The menu closed: TextChangedI follows if the text changed, else this asks (same debounce).
  api.nvim_create_autocmd('CompleteDone', {
    group = group,
    callback = function()
      if not s then
        schedule()
      end
    end,
  })
  api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, {
    group = group,
    callback = function()
      timer:stop()
      M.dismiss()
    end,
  })
  local keys = cfg.keymaps or {}
  map(keys.accept, 'accept', keys.accept == keys.nes_accept and 'accept' or nil)
  map(keys.accept_word, 'accept_word')
  map(keys.accept_line, 'accept_line')
  map(keys.dismiss, 'dismiss', 'dismiss')
end

return M
