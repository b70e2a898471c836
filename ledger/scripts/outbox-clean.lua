-- outbox-clean.lua: after the flusher took the account off tg:overage:pending, unmark it
-- unless it still has something to report.
--
-- KEYS[1] tg:{acct:ID}:state  KEYS[2] tg:{acct:ID}:outbox
-- ARGV: none
--
-- Reply: 1 clean (mk cleared: the next settle that makes a whole credit pending marks it
-- again); 0 still pending (a batch in flight or a whole credit): the caller adds it back.
--
-- The caller removes the account from the set BEFORE this script, so a settle that marks
-- the account after this script runs adds it back after the removal: nothing is missed.

--@include lib/base.lua
--@include lib/state.lua

if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local st = load_state(KEYS[1])
if st.get('ovp') + st.get('ovc') >= MICRO then return 0 end
st.set('mk', 0)
st.save()
return 1
