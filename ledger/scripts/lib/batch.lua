-- lib/batch.lua: the driver of the request path's batch scripts (reserve.lua, settle.lua), which
-- take one account's entries of an event-loop turn. Included after lib/base.lua.

-- A function built on its first call only: the full path's helpers (lib/state.lua) are
-- instantiated when an entry needs them, not on every call (a script's function definitions
-- run each time it runs, and nearly every call never needs these).
local function lazy(make)
  local f
  return function(i)
    if not f then f = make() end
    return f(i)
  end
end

-- Runs entries 1..n in order. `read()` loads what the fast path decides on and says whether
-- it applies (the period is current, nothing has expired); `fast(i)` decides entry i on that
-- state, `flush()` writes what the fast path changed, and `full(i)` decides entry i the long
-- way (rollover, purge) for when the fast path does not apply. Only a first entry lands there
-- in practice: after its rollover and purge the fast path applies again, as time stands still
-- inside a script. Returns the entries' replies, in order.
local function run_batch(n, read, fast, flush, full)
  local out = {}
  local ok = read()
  for i = 1, n do
    if ok then
      out[i] = fast(i)
    else
      flush()
      out[i] = full(i)
      ok = read()
    end
  end
  flush()
  return out
end
