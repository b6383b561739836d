-- load: reads a session and, at most once per touch interval, slides its idle TTL and records last-seen.
--
-- KEYS[1]  session hash          <prefix>{<tag>}:s:<hash>
-- Also touches, in the same slot, the user index ARGV[1] .. <the session's _u field> (a ZSET).
--
-- ARGV[1]  user index key prefix  <prefix>{<tag>}:u:
-- ARGV[2]  session hash (its member name in the user index)
-- ARGV[3]  idle timeout of a signed-in session, ms
-- ARGV[4]  idle timeout of an anonymous session, ms
-- ARGV[5]  touch interval, ms
-- ARGV[6]  max stored bytes (a larger session is refused, so a poisoned key cannot exhaust the app's memory)
-- ARGV[7]  client IP address, '' when unknown
--
-- Returns nil when absent or past its absolute deadline (then deleted); {'!', reason} when unusable;
-- otherwise {now, touched (0/1), number of names and values, names and values joined by NUL}.
-- Why joined: one bulk string instead of one per name and value costs Redis and the client a fraction of the
-- encoding and decoding. No name or value sessionkit writes contains NUL (JSON escapes it, keys refuse it), and
-- the count lets the client reject a planted one that does.
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
if size > tonumber(ARGV[6]) then return {'!', 'too_large'} end
if not last_seen or not deadline then return {'!', 'corrupt'} end

local now = now_ms()
if now >= deadline then
  redis.call('DEL', KEYS[1])
  if user then
    heal_index(ARGV[1] .. user)
    redis.call('ZREM', ARGV[1] .. user, ARGV[2])
    fit_index_ttl(ARGV[1] .. user)
  end
  return false
end

local touched = 0
if now - last_seen >= tonumber(ARGV[5]) then
  local idle = tonumber(user and ARGV[3] or ARGV[4])
  local expires = math.min(now + idle, deadline)
  if ARGV[7] ~= '' then
    redis.call('HSET', KEYS[1], '_ls', now, '_ip', ARGV[7])
  else
    redis.call('HSET', KEYS[1], '_ls', now)
  end
  redis.call('PEXPIREAT', KEYS[1], expires)
  if user then
    local index = ARGV[1] .. user
    heal_index(index)
    redis.call('ZADD', index, expires, ARGV[2])
    extend_ttl(index, expires)
  end
  touched = 1
end

return {now, touched, #fields, table.concat(fields, '\0')}
