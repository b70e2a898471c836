-- usage.lua: the account's current period state, after a lazy rollover and purge.
--
-- KEYS[1] tg:{acct:ID}:acct  KEYS[2] tg:{acct:ID}:state  KEYS[3] tg:{acct:ID}:resv
-- KEYS[4] tg:{acct:ID}:resv:amt  KEYS[5] tg:{acct:ID}:hist  KEYS[6..8] idempotency markers
-- (lib/batch.lua: the purge marks expired requests as charged)  KEYS[9..11] the usage
-- history's buckets and receipts (the purge charges floors; lib/usage-history.lua)
-- ARGV[1] now (ms)  ARGV[2] tier table  ARGV[3] idempotency window (ms)  ARGV[4] history settings
--
-- Reply: {} for an unknown account, else { tierId, field1, value1, field2, value2, ... }
-- (the state hash after rollover).

--@include lib/base.lua
--@include lib/usage-history.lua
--@include lib/batch.lua
--@include lib/state.lua

if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local now = tonumber(ARGV[1])
hist_config(ARGV[4])
local tier = account_tier(KEYS[1], parse_tiers(ARGV[2]))
local st = load_state(KEYS[2])
init_state(st, now)
rollover(st, now, tier, KEYS[5])
purge_reservations(st, KEYS[3], KEYS[4], now, tier, set_mark, hist_on_floor(now))
save_all(st, now, tonumber(ARGV[3]))
local reply = { tier.id }
for f, v in pairs(st.fields()) do
  reply[#reply + 1] = f
  if type(v) == 'number' then reply[#reply + 1] = fmt(v) else reply[#reply + 1] = v end
end
return reply
