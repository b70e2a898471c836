-- receipts.lua: one page of an account's receipts (GET /v1/usage/events), read in one step so
-- receipts pushed meanwhile cannot shift it. lib/usage-history.lua writes them: the list holds
-- the newest first, and the state hash's `rq` counts every receipt ever pushed, so the item at
-- index i is receipt number rq - i.
--
-- KEYS[1] tg:{acct:ID}:state  KEYS[2] tg:{acct:ID}:rc
-- ARGV[1] the number of the receipt the page goes on after ('' from the newest)  ARGV[2] items
--
-- Reply: { rq, index of the first item, items }

local rq = tonumber(redis.call('HGET', KEYS[1], 'rq') or '0')
local start = 0
if ARGV[1] ~= '' then start = rq - tonumber(ARGV[1]) + 1 end
if start < 0 then start = 0 end
return { rq, start, redis.call('LRANGE', KEYS[2], start, start + tonumber(ARGV[2]) - 1) }
