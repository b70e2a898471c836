-- set-period.lua: follow the Stripe subscription's period from now on.
--
-- KEYS[1] tg:{acct:ID}:acct  KEYS[2] tg:{acct:ID}:state  KEYS[3] tg:{acct:ID}:hist
-- ARGV[1] now (ms)  ARGV[2] period start (ms)  ARGV[3] period end (ms)  ARGV[4] tier table
--
-- Reply: 1, or 0 for an unknown account.
--
-- Cases (mirrors setPeriod() in ledger/account-state.ts):
--   ends before ours began            -> stale, ignored
--   starts > 1 day after ours, by now -> close ours at its start (carryover as usual), run Stripe's
--   starts in the future              -> ours runs until then, then periods follow Stripe's
--   otherwise (same period, within a day, or began before ours)
--                                     -> one period: the counters kept, Stripe's bounds
-- Later periods are calendar months from Stripe's start when its period is whole months
-- (Jan 31 -> Feb 28 -> Mar 31), else from its end (a 14-day trial, then a month).

--@include lib/base.lua
--@include lib/state.lua

local SAME_PERIOD_SLACK_MS = 86400000

local function anchor_to(st, start, stop)
  local months = months_between(start, stop)
  st.set('pm', months)
  if add_months(start, months) == stop then
    st.set('an', start); st.set('pk', 0)
  else
    st.set('an', stop); st.set('pk', -1)
  end
  st.set('pe', stop)
end

if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local now, start, stop = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tier = account_tier(KEYS[1], parse_tiers(ARGV[4]))
local st = load_state(KEYS[2])
init_state(st, now)
rollover(st, now, tier, KEYS[3])

local ps = st.get('ps')
if stop <= ps then
  st.save()
  return 1
end
if start > ps + SAME_PERIOD_SLACK_MS and start <= now then
  st.set('pe', start); st.set('an', start); st.set('pk', -1); st.set('pm', months_between(start, stop))
  rollover(st, now, tier, KEYS[3])
  if st.get('ps') == start then anchor_to(st, start, stop) end
elseif start > now then
  st.set('pe', start); st.set('an', start); st.set('pk', -1); st.set('pm', months_between(start, stop))
else
  if start > ps then st.set('ps', start) end
  anchor_to(st, start, stop)
end
rollover(st, now, tier, KEYS[3])
st.save()
return 1
