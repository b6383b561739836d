-- claim: deletes a session and its index entry and returns its fields, so that rotation can carry the data over
-- to a new id. Of two concurrent claims of one session exactly one gets the fields.
--
-- KEYS[1]  session hash   <prefix>{<tag>}:s:<hash>
-- Also touches, in the same slot, the user index ARGV[1] .. <the session's _u field>.
--
-- ARGV[1]  user index key prefix <prefix>{<tag>}:u:
-- ARGV[2]  session hash
--
-- Returns nil when there was nothing (live) to claim, else {field1, value1, ...}.
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
  heal_index(ARGV[1] .. user)
  redis.call('ZREM', ARGV[1] .. user, ARGV[2])
  fit_index_ttl(ARGV[1] .. user)
end
if not deadline or now_ms() >= deadline then return false end
return fields
