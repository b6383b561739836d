-- peek: reads one session as a load would see it, without touching it (kit.readSession): no TTL slide, no
-- last-seen update, and a session found past its absolute deadline is reported absent, not deleted.
--
-- KEYS[1]  session hash          <prefix>{<tag>}:s:<hash>
-- Also reads, in the same slot, the user index ARGV[2] .. <the session's _u field> (a ZSET).
--
-- ARGV[1]  deadline (lib.lua)
-- ARGV[2]  user index key prefix  <prefix>{<tag>}:u:
-- ARGV[3]  session hash (its member name in the user index)
-- ARGV[4]  max stored bytes
--
-- Returns nil when absent or past its absolute deadline; {'!', reason} when unusable (as load.lua); otherwise
-- {now, expires (epoch ms), field1, value1, ...}.
local now, stale = begin()
if not now then return stale end
local fields = redis.pcall('HGETALL', KEYS[1])
if type(fields) == 'table' and fields.err then return {'!', 'corrupt'} end
if #fields == 0 then return false end

local size, user, last_seen, deadline = 0, nil, nil, nil
for i = 1, #fields, 2 do
  local name = fields[i]
  size = size + #name + #fields[i + 1]
  if name == '_u' then user = fields[i + 1]
  elseif name == '_ls' then last_seen = tonumber(fields[i + 1])
  elseif name == '_ab' then deadline = tonumber(fields[i + 1]) end
end
if size > tonumber(ARGV[4]) then return {'!', 'too_large'} end
if not last_seen or not deadline then return {'!', 'corrupt'} end
if now >= deadline then return false end
if user then
  local indexed = redis.pcall('ZSCORE', ARGV[2] .. user, ARGV[3])
  if type(indexed) ~= 'string' then return {'!', 'corrupt'} end
end

local ttl = redis.call('PTTL', KEYS[1])
local reply = {now, ttl > 0 and now + ttl or deadline}
for i = 1, #fields do reply[i + 2] = fields[i] end
return reply
