-- Neovim's built-in LSP client against `attune lsp` (run by
-- scripts/nvim-lsp.sh). Works on Neovim 0.7 (Debian 12) and later:
-- vim.lsp.start_client + buf_attach_client. Writes one line per diagnostic
-- received to $ATTUNE_OUT, then quits.
local bin = os.getenv("ATTUNE_BIN")
local root = os.getenv("ATTUNE_ROOT")
local file = os.getenv("ATTUNE_FILE")
local out = io.open(os.getenv("ATTUNE_OUT"), "w")

vim.cmd("edit " .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({
  name = "attune",
  cmd = { bin, "lsp" },
  root_dir = root,
  init_options = { debounceMs = 10 },
})
if not id then
  out:write("ERROR: the client did not start\n")
  out:close()
  vim.cmd("qa!")
end
vim.lsp.buf_attach_client(buf, id)

-- Poll (bounded) until the server has published diagnostics.
local got = vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
if not got then
  out:write("ERROR: no diagnostics within 20 s\n")
end
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local code = d.code
  if code == nil and d.user_data and d.user_data.lsp then code = d.user_data.lsp.code end
  out:write(string.format("%d:%d-%d:%d severity=%d code=%s %s\n",
    d.lnum + 1, d.col + 1, (d.end_lnum or d.lnum) + 1, (d.end_col or d.col) + 1,
    d.severity, tostring(code), (d.message:gsub("\n", " | "))))
end

-- A request through the client: completion inside `do: [...]`.
-- ATTUNE_COMPLETE="line:character" (0-based), default inside `do: [`.
local cl, cc = (os.getenv("ATTUNE_COMPLETE") or "9:13"):match("(%d+):(%d+)")
local params = {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  position = { line = tonumber(cl), character = tonumber(cc) },
}
local resp = vim.lsp.buf_request_sync(buf, "textDocument/completion", params, 10000)
for _, r in pairs(resp or {}) do
  local labels = {}
  for _, item in ipairs(r.result or {}) do table.insert(labels, item.label) end
  out:write("completion: " .. table.concat(labels, ",") .. "\n")
end
out:close()
vim.lsp.stop_client(id)
vim.cmd("qa!")
