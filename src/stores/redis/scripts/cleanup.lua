-- cleanup: prunes a user's index (expired entries, sessions that are gone) and evicts the least recently active
-- sessions beyond the cap. The admin CLI runs it for one user or, over SCAN, for all.
--
-- KEYS[1]  user index     <prefix>{<tag>}:u:<user>
-- Also touches, in the same slot, evicted sessions <prefix>{<tag>}:s:<hash>.
--
-- ARGV[1]  deadline (lib.lua)
-- ARGV[2]  session key prefix <prefix>{<tag>}:s:
-- ARGV[3]  encoded user id
-- ARGV[4]  max sessions per user
-- ARGV[5]  '1' for a dry run (count only, write nothing)
--
-- Returns {pruned, evicted}.
local now, stale = begin()
if not now then return stale end
if ARGV[5] == '1' then
  -- A dry run writes nothing, not even the repair of an index key of the wrong type.
  local t = redis.call('TYPE', KEYS[1])
  t = type(t) == 'table' and t.ok or t
  if t ~= 'zset' then return {0, 0} end
else
  heal_index(KEYS[1])
end
local pruned, evicted = enforce_index(KEYS[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), now, '', ARGV[5] == '1')
return {pruned, evicted}
