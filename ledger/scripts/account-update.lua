-- account-update.lua: patch an account's fields and tell every process, atomically.
--
-- KEYS[1] tg:{acct:ID}:acct  the account hash
-- ARGV[1] the account channel  ARGV[2] the account id (its message)
-- ARGV[3] the revocation channel (both '': the caller publishes, by sharded pub/sub)  ARGV[4] n: field/value pairs to set  ARGV[5] m: fields to delete
-- then n pairs, then m field names, then key hashes to publish on the revocation channel
-- (a suspension: every process's key cache forgets the account's keys)
--
-- Reply: 1.
--
-- One script, not MULTI: a MULTI with a script in it is not retried after NOSCRIPT, and on a
-- Redis Cluster one call is one slot, followed through MOVED/ASK by the client. PUBLISH (not
-- a key) reaches every node of a cluster.

local n, m = tonumber(ARGV[4]), tonumber(ARGV[5])
local at = 6
if n > 0 then
  local set = {}
  for i = at, at + 2 * n - 1 do set[#set + 1] = ARGV[i] end
  redis.call('HSET', KEYS[1], unpack(set))
end
at = at + 2 * n
if m > 0 then
  local del = {}
  for i = at, at + m - 1 do del[#del + 1] = ARGV[i] end
  redis.call('HDEL', KEYS[1], unpack(del))
end
at = at + m
if ARGV[1] ~= '' then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
if ARGV[3] ~= '' then
  for i = at, #ARGV do redis.call('PUBLISH', ARGV[3], ARGV[i]) end
end
return 1
