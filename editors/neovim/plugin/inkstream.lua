-- inkstream: commands and the highlight group. Nothing starts until require('inkstream').setup().
if vim.g.loaded_inkstream then
  return
end
vim.g.loaded_inkstream = 1

local function link()
  vim.cmd('highlight default link InkstreamGhost Comment')
  vim.cmd('highlight default link InkstreamNesDelete DiffDelete')
  vim.cmd('highlight default link InkstreamNesAdd DiffAdd')
  vim.cmd('highlight default link InkstreamNesHint Comment')
end
link()
vim.api.nvim_create_autocmd('ColorScheme', {
  group = vim.api.nvim_create_augroup('inkstream_hl', { clear = true }),
  callback = link,
})

local command = vim.api.nvim_create_user_command
command('InkstreamExplain', function(o)
  require('inkstream.explain').start(o.range > 0 and { o.line1, o.line2 } or nil)
end, { range = true, desc = 'inkstream: explain the range (or the current function) in a split' })
command('InkstreamStop', function()
  require('inkstream').stop()
end, { desc = 'inkstream: stop the running explanation and suggestion' })
command('InkstreamStatus', function()
  require('inkstream.client').show_status()
end, { desc = 'inkstream: endpoint, model and last error' })
