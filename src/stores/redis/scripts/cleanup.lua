-- cleanup: prunes a user's index (expired entries, sessions that are gone) and evicts the least recently active
-- sessions beyond the cap. The admin CLI runs it for one user or, over SCAN, for all.
--
-- KEYS[1]  user index     <prefix>{<tag>}:u:<user>
-- Also touches, in the same slot, evicted sessions <prefix>{<tag>}:s:<hash>.
--
-- ARGV[1]  session key prefix <prefix>{<tag>}:s:
-- ARGV[2]  encoded user id
-- ARGV[3]  max sessions per user
-- ARGV[4]  '1' for a dry run (count only, write nothing)
--
-- Returns {pruned, evicted}.
heal_index(KEYS[1])
local pruned, evicted = enforce_index(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), now_ms(), '', ARGV[4] == '1')
return {pruned, evicted}
