-- anonymous: the count of anonymous sessions created from one client address (GitLab's AnonymousSession), in
-- its own slot. The count lives for a window after the latest one counted (GitLab refreshes its 24 h TTL at
-- each count), and a sign-in from the address clears it.
--
-- KEYS[1]  counter        <prefix>{ip:<address>}:a
--
-- ARGV[1]  deadline (lib.lua)
-- ARGV[2]  'count' (one more session, unless the cap is reached), 'get' or 'clear'
-- ARGV[3]  window, ms (mode 'count')
-- ARGV[4]  cap, '' = none (mode 'count')
--
-- Returns: 'count' {1 counted / 0 refused, count}; 'get' the count; 'clear' 1.
local now, stale = begin()
if not now then return stale end
if ARGV[2] == 'clear' then
  redis.call('DEL', KEYS[1])
  return 1
end
-- A key that is not a count (written by someone else) counts as none.
local raw = redis.pcall('GET', KEYS[1])
local count = type(raw) == 'string' and tonumber(raw) or 0
if ARGV[2] == 'get' then return count end
if type(raw) ~= 'string' or not tonumber(raw) then redis.call('DEL', KEYS[1]) end
if ARGV[4] ~= '' and count >= tonumber(ARGV[4]) then return {0, count} end
count = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, count}
