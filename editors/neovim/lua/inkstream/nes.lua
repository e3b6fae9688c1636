-- Next-edit suggestions: the edits the server predicts after the user's last edit, drawn where
-- they would apply as they stream in (inkstream/nextEdit; each $/progress value is a delta of new,
-- final edits). One request at a time. Each edit is anchored by an extmark over the text it
-- replaces, so accepting one keeps the others in place. Tab jumps to the first edit when it is
-- away from the cursor, and applies it when the cursor is there; anything else that changes the
-- buffer hides them and cancels the request (the model stops).
local M = {}

local api = vim.api
local client = require('inkstream.client')
local ns = api.nvim_create_namespace('inkstream_nes')
M.ns = ns
local has_inline = vim.fn.has('nvim-0.10') == 1
local new_byteindex = vim.fn.has('nvim-0.11') == 1 -- str_byteindex(s, encoding, index, strict)
local timer = vim.loop.new_timer()
local config
local unsupported = {} -- client ids of servers that answered -32601 (method not found)
local n -- the suggestion: {client, buf, version, tick, edits = {{edit, text, mark, marks}}, handle, hint}

local function versions(buf)
  return vim.lsp.util.buf_versions[buf]
end

local function line(buf, row)
  return api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ''
end

-- The byte column of an LSP position's character, in the server's position encoding.
local function byte_col(buf, pos, encoding)
  local text = line(buf, pos.line)
  if encoding == 'utf-8' then
    return math.min(pos.character, #text)
  end
  local ok, col
  if new_byteindex then
    ok, col = pcall(vim.str_byteindex, text, encoding, pos.character, false)
  else
    ok, col = pcall(vim.str_byteindex, text, pos.character, encoding == 'utf-16')
  end
  return ok and col or #text
end

local function notify(method, params)
  local lsp = n and client.get(n.buf)
  if lsp then
    client.call(lsp, 'notify', method, params)
  end
end

local function id_of(edit)
  local cmd = edit.command
  return type(cmd) == 'table' and type(cmd.arguments) == 'table' and cmd.arguments[1] or nil
end

-- Where an edit's text is now: {srow, scol, erow, ecol} from its anchor mark.
local function range_of(e)
  local m = api.nvim_buf_get_extmark_by_id(n.buf, ns, e.mark, { details = true })
  if not m or not m[1] then
    return nil
  end
  local d = m[3] or {}
  return { m[1], m[2], d.end_row or m[1], d.end_col or m[2] }
end

local function clear_marks(e)
  for _, id in ipairs(e.marks) do
    pcall(api.nvim_buf_del_extmark, n.buf, ns, id)
  end
end

-- The LSP position after the document's last newline is a line Neovim does not have: the edit is
-- re-expressed within the buffer's lines (text and range, for drawing and applying alike).
local function clamp(buf, r, text)
  local count = api.nvim_buf_line_count(buf)
  if r[3] < count then
    return r, text
  end
  local last = count - 1
  local srow, scol = r[1], r[2]
  if srow >= count then -- lines added after the last one
    srow, scol = last, #line(buf, last)
    text = '\n' .. text
  elseif text == '' and scol == 0 and srow > 0 then -- the last lines removed, with the newline before
    srow, scol = srow - 1, #line(buf, srow - 1)
  end
  return { srow, scol, last, #line(buf, last) }, (text:gsub('\n$', ''))
end

-- An insertion after a line's indentation that ends with a line break and that indentation is
-- whole lines inserted before the line: drawn (and applied) as such, above it.
local function whole_lines_inserted(buf, r, text)
  if r[1] == r[3] and r[2] == r[4] and r[2] > 0 then
    local indent = line(buf, r[1]):sub(1, r[2])
    if indent:match('^%s+$') and text:sub(-(#indent + 1)) == '\n' .. indent then
      return { r[1], 0, r[1], 0 }, indent .. text:sub(1, -(#indent + 1))
    end
  end
  return r, text
end

-- Draw one edit: the text it removes in InkstreamNesDelete; what it inserts beside it in
-- InkstreamNesAdd (inline on 0.10+; on 0.7-0.9 the changed line as it will read, at the end of
-- the line, since they have no inline virtual text), and lines it adds as virtual lines.
local function draw(e, r)
  local buf = n.buf
  local text
  r, text = whole_lines_inserted(buf, clamp(buf, r, e.edit.text or ''))
  e.text = text
  local srow, scol, erow, ecol = r[1], r[2], r[3], r[4]
  local removes = srow ~= erow or scol ~= ecol
  -- whole lines removed, replaced or inserted
  local whole_lines = scol == 0 and ecol == 0 and (erow > srow or text:sub(-1) == '\n')
  e.mark = api.nvim_buf_set_extmark(buf, ns, srow, scol, {
    end_row = erow,
    end_col = ecol,
    hl_group = removes and 'InkstreamNesDelete' or nil,
    hl_eol = (removes and whole_lines) or nil,
    priority = 4000,
  })
  e.marks = { e.mark }
  if text == '' then
    return
  end
  local new
  local opts = { priority = 4000 }
  local row, col = erow, ecol
  if whole_lines then
    -- the new lines below the last line removed, or above the line they go before
    new = vim.split((text:gsub('\n$', '')), '\n', true)
    if erow > srow then
      row, col = erow - 1, 0
    else
      opts.virt_lines_above = true
    end
  elseif has_inline and not text:find('\n') then
    opts.virt_text = { { text, 'InkstreamNesAdd' } }
    opts.virt_text_pos = 'inline'
    new = {}
  else
    new = vim.split(line(buf, srow):sub(1, scol) .. text .. line(buf, erow):sub(ecol + 1), '\n', true)
    local first = table.remove(new, 1)
    if first ~= line(buf, srow) or srow ~= erow then -- the changed line as it will read
      opts.virt_text = { { '  ' }, { (first:gsub('^%s+', '')), 'InkstreamNesAdd' } }
      opts.virt_text_pos = 'eol'
    end
  end
  if #new > 0 then
    opts.virt_lines = {}
    for i, l in ipairs(new) do
      opts.virt_lines[i] = { { l, 'InkstreamNesAdd' } }
    end
  end
  e.marks[2] = api.nvim_buf_set_extmark(buf, ns, row, col, opts)
end

local function away(e)
  local r = range_of(e)
  local row = api.nvim_win_get_cursor(0)[1] - 1
  return r and (row < r[1] or row > r[3]) and r
end

-- The hint at the cursor when the next edit is elsewhere: where Tab will go.
local function hint()
  if not n then
    return
  end
  local e = n.edits[1]
  local r = e and api.nvim_get_current_buf() == n.buf and away(e)
  if not r then
    if n.hint then
      pcall(api.nvim_buf_del_extmark, n.buf, ns, n.hint)
      n.hint = nil
    end
    return
  end
  local row = api.nvim_win_get_cursor(0)[1] - 1
  n.hint = api.nvim_buf_set_extmark(n.buf, ns, row, 0, {
    id = n.hint,
    virt_text = { { '  ' }, { string.format('Tab: next edit at line %d', r[1] + 1), 'InkstreamNesHint' } },
    virt_text_pos = 'eol',
    priority = 3000,
  })
end

local function add(edits)
  if type(edits) ~= 'table' then
    return
  end
  local lsp = client.get(n.buf)
  local encoding = lsp and lsp.offset_encoding or 'utf-16'
  for _, edit in ipairs(edits) do
    local doc = edit.textDocument or {}
    local ok_version = doc.version == n.version and versions(n.buf) == n.version
    if ok_version and type(edit.range) == 'table' and type(edit.text) == 'string' then
      local s, t = edit.range.start, edit.range['end']
      local r = { s.line, byte_col(n.buf, s, encoding), t.line, byte_col(n.buf, t, encoding) }
      local e = { edit = edit }
      if pcall(draw, e, r) then
        table.insert(n.edits, e)
        local id = id_of(edit)
        if id then
          notify('textDocument/didShowInlineEdit', { item = { command = { arguments = { id } } } })
        end
      else
        clear_marks(e)
      end
    end
  end
  hint()
end

local function stop_request()
  if n and n.handle then
    n.handle.cancel()
    n.handle = nil
  end
end

--- Hide the next edits, tell the server they were dismissed, and stop the model.
function M.dismiss()
  if not n then
    return
  end
  stop_request()
  local ids = {}
  for _, e in ipairs(n.edits) do
    ids[#ids + 1] = id_of(e.edit)
  end
  if #ids > 0 then
    notify('inkstream/didDismissNextEdit', { ids = ids })
  end
  pcall(api.nvim_buf_clear_namespace, n.buf, ns, 0, -1)
  n = nil
end

--- Whether a next edit is shown.
function M.visible()
  return n ~= nil and #n.edits > 0 and api.nvim_get_current_buf() == n.buf
end

--- Whether next edits are being asked for (or will be, once the pause ends).
function M.running()
  return (n ~= nil and n.handle ~= nil) or timer:is_active()
end

M.requests = 0 -- requests sent, for the tests

--- Ask for next edits at the cursor now.
function M.trigger()
  M.dismiss()
  timer:stop()
  local buf = api.nvim_get_current_buf()
  local lsp = client.get(buf)
  if not lsp or unsupported[lsp.id] then
    return
  end
  local params = vim.lsp.util.make_position_params(0, lsp.offset_encoding)
  local version = versions(buf)
  params.textDocument.version = version
  local st = { client = lsp.id, buf = buf, version = version, tick = api.nvim_buf_get_changedtick(buf), edits = {} }
  n = st
  st.handle = client.request(buf, 'inkstream/nextEdit', params, function(value)
    if n == st then
      add(value and value.edits)
    end
  end, function(err, result)
    if n ~= st then
      return
    end
    st.handle = nil
    if err and err.code == -32601 then
      unsupported[st.client] = true -- an older server: stop asking it
    end
    -- the final result holds the edits sent as partial results again: only the new ones
    if not err and result and type(result.edits) == 'table' then
      local seen = {}
      for _, e in ipairs(st.edits) do
        seen[id_of(e.edit) or e] = true
      end
      local rest = {}
      for _, edit in ipairs(result.edits) do
        if not seen[id_of(edit) or {}] then
          rest[#rest + 1] = edit
        end
      end
      add(rest)
    end
    if #st.edits == 0 then
      n = nil
    end
  end)
  if st.handle then
    M.requests = M.requests + 1
  else
    n = nil
  end
end

-- Apply the first edit (one undo step), run its command, and keep the others.
local function apply(e, r)
  local buf = n.buf
  local lines = vim.split(e.text, '\n', true)
  local insert = api.nvim_get_mode().mode:sub(1, 1) == 'i'
  table.remove(n.edits, 1)
  clear_marks(e)
  -- the server supersedes the request once the document changes: no more edits will come
  stop_request()
  if insert then
    vim.o.undolevels = vim.o.undolevels -- close the undo block: the edit is a step of its own
  end
  api.nvim_buf_set_text(buf, r[1], r[2], r[3], r[4], lines)
  if insert then
    vim.o.undolevels = vim.o.undolevels
  end
  n.tick = api.nvim_buf_get_changedtick(buf)
  local row = r[1] + #lines - 1
  local col = (#lines == 1 and r[2] or 0) + #lines[#lines]
  if not insert and col > 0 and #lines[#lines] > 0 then
    col = col - 1 -- Normal mode: on the last character inserted
  end
  api.nvim_win_set_cursor(0, { row + 1, col })
  local lsp = client.get(buf)
  if lsp and type(e.edit.command) == 'table' then
    client.call(lsp, 'request', 'workspace/executeCommand', {
      command = e.edit.command.command,
      arguments = e.edit.command.arguments,
    }, function() end, buf)
  end
  if #n.edits == 0 then
    pcall(api.nvim_buf_clear_namespace, buf, ns, 0, -1)
    n = nil
  else
    hint()
  end
end

--- Jump to the next edit if it is away from the cursor, else apply it. Returns false when no next
--- edit is shown.
function M.accept()
  if not M.visible() then
    return false
  end
  local e = n.edits[1]
  local r = range_of(e)
  if not r then
    M.dismiss()
    return false
  end
  if away(e) then
    vim.cmd("normal! m'") -- the jump goes in the jump list: <C-o> comes back
    api.nvim_win_set_cursor(0, { r[1] + 1, r[2] })
    hint()
    return true
  end
  apply(e, r)
  return true
end

local function schedule()
  if config.auto_trigger then
    client.after_pause(timer, config.debounce_ms, M.trigger)
  end
end

-- A change the user made (not one of ours) hides the suggestion and stops the model.
local function changed(args)
  if n and n.buf == args.buf and api.nvim_buf_get_changedtick(args.buf) ~= n.tick then
    M.dismiss()
  end
end

function M.setup(cfg)
  config = cfg
  local group = api.nvim_create_augroup('inkstream_nes', { clear = true })
  M.dismiss()
  local keys = cfg.keymaps or {}
  if cfg.next_edit == false then
    for _, lhs in ipairs({ keys.nes_accept, keys.nes_dismiss }) do
      if lhs and vim.fn.maparg(lhs, 'n', false, true).desc == 'inkstream' then
        vim.keymap.del('n', lhs) -- ours, from an earlier setup()
      end
    end
    return
  end
  api.nvim_create_autocmd({ 'TextChangedI', 'TextChangedP' }, { group = group, callback = changed })
  api.nvim_create_autocmd('TextChanged', {
    group = group,
    callback = function(args)
      changed(args)
      if not n then
        schedule()
      end
    end,
  })
  api.nvim_create_autocmd('InsertLeave', {
    group = group,
    callback = function(args)
      changed(args)
      if not n then
        schedule()
      end
    end,
  })
  api.nvim_create_autocmd({ 'CursorMoved', 'CursorMovedI' }, { group = group, callback = hint })
  api.nvim_create_autocmd('BufLeave', {
    group = group,
    callback = function()
      timer:stop()
      M.dismiss()
    end,
  })
  local ghost = require('inkstream.ghost')
  ghost.map_nes('n', keys.nes_accept, 'accept')
  ghost.map_nes('n', keys.nes_dismiss, 'dismiss')
  if keys.nes_accept ~= keys.accept then -- else the ghost text's key does both
    ghost.map_nes('i', keys.nes_accept, 'accept')
  end
end

return M
