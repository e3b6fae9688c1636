-- inkstream for Neovim: streaming ghost text and explanations from `inkstream serve`.
-- See :help inkstream.
local M = {}

local defaults = {
  cmd = { 'inkstream', 'serve' },
  -- filetypes to attach to: a list ({ 'python', 'lua' }) or a map ({ ['*'] = true, markdown = false })
  filetypes = { ['*'] = true, help = false },
  keymaps = {
    accept = '<Tab>',
    accept_word = '<M-Right>',
    accept_line = '<M-Down>',
    dismiss = '<C-]>',
    nes_accept = '<Tab>', -- Normal mode, and Insert mode when no ghost text shows
    nes_dismiss = '<Esc>', -- Normal mode
  },
  auto_trigger = true,
  next_edit = true, -- next-edit suggestions (see :help inkstream-next-edit)
  debounce_ms = 30, -- client side, small: the server debounces too
  settings = {}, -- the server's settings (baseUrl, model, apiStyle, ...); the key comes from the environment
}

M.config = vim.deepcopy(defaults)

local function normalize(opts)
  local cfg = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  if opts and opts.filetypes then
    cfg.filetypes = {}
    for k, v in pairs(opts.filetypes) do
      if type(k) == 'number' then
        cfg.filetypes[v] = true
      else
        cfg.filetypes[k] = v
      end
    end
  end
  if opts and opts.keymaps == false then
    cfg.keymaps = {}
  end
  if type(cfg.cmd) == 'string' then
    cfg.cmd = { cfg.cmd }
  end
  if cfg.settings.apiKey then
    vim.notify('inkstream: settings.apiKey is ignored; set INKSTREAM_API_KEY in the environment', vim.log.levels.WARN)
  end
  return cfg
end

--- Start the server for enabled filetypes and map the keys. Options: see :help inkstream-setup.
function M.setup(opts)
  M.config = normalize(opts)
  require('inkstream.ghost').setup(M.config)
  require('inkstream.nes').setup(M.config)
  require('inkstream.client').setup(M.config)
end

function M.accept()
  return require('inkstream.ghost').accept()
end

function M.accept_word()
  return require('inkstream.ghost').accept_word()
end

function M.accept_line()
  return require('inkstream.ghost').accept_line()
end

function M.dismiss()
  return require('inkstream.ghost').dismiss()
end

function M.trigger()
  return require('inkstream.ghost').trigger(1)
end

--- Ask for next edits at the cursor now.
function M.nes_trigger()
  return require('inkstream.nes').trigger()
end

--- Jump to the next edit when it is away from the cursor, else apply it. False when none shows.
function M.nes_accept()
  return require('inkstream.nes').accept()
end

--- Hide the next edits and stop the model.
function M.nes_dismiss()
  return require('inkstream.nes').dismiss()
end

--- A short string for statuslines.
function M.status()
  return require('inkstream.client').status()
end

--- Stop whatever is streaming: the explanation and the ghost text (the model stops).
function M.stop()
  require('inkstream.explain').stop()
  require('inkstream.ghost').dismiss()
  require('inkstream.nes').dismiss()
end

return M
