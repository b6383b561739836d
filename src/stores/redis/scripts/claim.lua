-- claim: deletes a session and its index entry and returns its fields, so that rotation can carry the data over
-- to a new id. Of two concurrent claims of one session exactly one gets the fields. When the data is carried,
-- it leaves a forwarding note so that a save still in flight for the old session reaches the new one.
--
-- KEYS[1]  session hash      <prefix>{<tag>}:s:<hash>
-- KEYS[2]  forwarding note   <prefix>{<tag>}:r:<hash>
-- Also touches, in the same slot, the user index ARGV[2] .. <the session's _u field>.
--
-- ARGV[1]  deadline (lib.lua)
-- ARGV[2]  user index key prefix <prefix>{<tag>}:u:
-- ARGV[3]  session hash
-- ARGV[4]  the new session's id '<tag>.<hash>', '' when the data is not carried (another user signs in)
-- ARGV[5]  the new session's owner (encoded user id, '' when anonymous)
--
-- Returns nil when there was nothing (live) to claim, else {field1, value1, ...}.
local now, stale = begin()
if not now then return stale end
local fields = redis.pcall('HGETALL', KEYS[1])
if type(fields) == 'table' and fields.err then return false end
if #fields == 0 then return false end
local user, deadline
for i = 1, #fields, 2 do
  if fields[i] == '_u' then user = fields[i + 1]
  elseif fields[i] == '_ab' then deadline = tonumber(fields[i + 1]) end
end
redis.call('DEL', KEYS[1])
if user then
  heal_index(ARGV[2] .. user)
  redis.call('ZREM', ARGV[2] .. user, ARGV[3])
  fit_index_ttl(ARGV[2] .. user)
end
if not deadline or now >= deadline then return false end
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[2], ARGV[4] .. '\n' .. ARGV[5], 'PX', FORWARD_MS)
end
return fields
