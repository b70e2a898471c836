-- lease-release.lua: release a flusher's per-account lease if it still holds it.
--
-- KEYS[1] tg:{acct:ID}:lease
-- ARGV[1] the owner token given when the lease was taken
--
-- Reply: 1 released, 0 the lease had expired or belongs to another flusher.

if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
