-- set-period.lua: follow the Stripe subscription's period from now on.
--
-- KEYS[1] tg:{acct:ID}:acct  KEYS[2] tg:{acct:ID}:state  KEYS[3] tg:{acct:ID}:hist
-- ARGV[1] now (ms)  ARGV[2] period start (ms)  ARGV[3] period end (ms)  ARGV[4] tier table
--
-- Reply: 1, or 0 for an unknown account.
--
-- Cases (mirrors setPeriod() in ledger/account-state.ts):
--   same period            -> re-anchor only
--   starts after ours, now -> close ours at its start (carryover as usual), run Stripe's
--   starts in the future   -> ours runs until then, then periods follow Stripe's anchor
--   starts with/before ours-> keep the counters, take Stripe's end
--   ends before ours began -> stale, ignored

--@include lib/state.lua

if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local now, start, stop = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tier = account_tier(KEYS[1], parse_tiers(ARGV[4]))
local st = load_state(KEYS[2])
init_state(st, now)
rollover(st, now, tier, KEYS[3])

local months = months_between(start, stop)
local ps, pe = st.get('ps'), st.get('pe')
if stop <= ps then
  -- stale
elseif start == ps and stop == pe then
  st.set('an', start); st.set('pk', 0); st.set('pm', months)
elseif start > ps and start <= now then
  st.set('pe', start); st.set('an', start); st.set('pk', -1); st.set('pm', months)
  rollover(st, now, tier, KEYS[3])
  if st.get('ps') == start then st.set('pe', stop) end
  rollover(st, now, tier, KEYS[3])
elseif start > now then
  st.set('pe', start); st.set('an', start); st.set('pk', -1); st.set('pm', months)
else
  st.set('pe', stop); st.set('an', start); st.set('pk', 0); st.set('pm', months)
  rollover(st, now, tier, KEYS[3])
end
st.save()
return 1
