-- load: reads a session and, at most once per touch interval, slides its idle TTL and records last-seen.
--
-- KEYS[1]  session hash          <prefix>{<tag>}:s:<hash>
-- Also reads and touches, in the same slot, the user index ARGV[2] .. <the session's _u field> (a ZSET).
--
-- ARGV[1]  deadline (lib.lua)
-- ARGV[2]  user index key prefix  <prefix>{<tag>}:u:
-- ARGV[3]  session hash (its member name in the user index)
-- ARGV[4]  idle timeout of a signed-in session, ms
-- ARGV[5]  idle timeout of an anonymous session, ms
-- ARGV[6]  touch interval, ms
-- ARGV[7]  max stored bytes (a larger session is refused, so a poisoned key cannot exhaust the app's memory)
-- ARGV[8]  client IP address, '' when unknown
-- ARGV[9]  uniqueIpsPerUser: the user address set's key prefix <prefix>{<tag>}:i: (absent when the limit is off)
-- ARGV[10] uniqueIpsPerUser max, ARGV[11] its window in ms
--
-- Returns nil when absent; {'!', 'expired', owner or ''} when past its absolute deadline (then deleted);
-- {'!', 'too_many_ips', owner} when the address is one more than uniqueIpsPerUser allows (nothing written);
-- {'!', reason} when unusable (also a signed-in session missing from its user's index: planted, or its index
-- was lost, so revoke-all could not reach it); otherwise {now, touched (0/1), number of names and values, names and values joined by NUL}.
-- Why joined: one bulk string instead of one per name and value costs Redis and the client a fraction of the
-- encoding and decoding. No name or value sessionkit writes contains NUL (JSON escapes it, keys refuse it), and
-- the count lets the client reject a planted one that does.
local now, stale = begin()
if not now then return stale end

-- Near cache (stores/redis/tracking-link.ts): the caller's connection may have CLIENT TRACKING on, with NOLOOP.
-- Redis 7.0 tracks a script's declared KEYS for its caller whenever the script runs a read, and a write drops
-- the key from the tracking table without telling the writer: so after the touch writes the session, one more
-- read keeps it tracked. (Without tracking, one EXISTS per touch.)
local function keep_tracked()
  redis.call('EXISTS', KEYS[1])
end

local fields = redis.pcall('HGETALL', KEYS[1])
if type(fields) == 'table' and fields.err then return {'!', 'corrupt'} end
if #fields == 0 then return false end

local size, user, last_seen, deadline, ip, impersonated = 0, nil, nil, nil, nil, false
for i = 1, #fields, 2 do
  local name = fields[i]
  size = size + #name + #fields[i + 1]
  if name == '_u' then user = fields[i + 1]
  elseif name == '_ls' then last_seen = tonumber(fields[i + 1])
  elseif name == '_ab' then deadline = tonumber(fields[i + 1])
  elseif name == '_ip' then ip = fields[i + 1]
  elseif name == '_im' then impersonated = true end
end
if size > tonumber(ARGV[7]) then return {'!', 'too_large'} end
if not last_seen or not deadline then return {'!', 'corrupt'} end

local index = user and ARGV[2] .. user
if now >= deadline then
  redis.call('DEL', KEYS[1])
  if index then
    heal_index(index)
    redis.call('ZREM', index, ARGV[3])
    fit_index_ttl(index)
  end
  return {'!', 'expired', user or ''}
end
if index then
  local indexed = redis.pcall('ZSCORE', index, ARGV[3])
  if type(indexed) ~= 'string' then return {'!', 'corrupt'} end
end

local touching = now - last_seen >= tonumber(ARGV[6])
-- A new address is checked at once; the session's own address only when its entry is refreshed (at a touch).
if ARGV[9] and index and ARGV[8] ~= '' and not impersonated and (touching or ARGV[8] ~= ip) then
  if not admit_ip(ARGV[9] .. user, ARGV[8], tonumber(ARGV[10]), tonumber(ARGV[11]), now) then
    return {'!', 'too_many_ips', user}
  end
end

local touched = 0
if touching then
  local idle = tonumber(index and ARGV[4] or ARGV[5])
  local expires = math.min(now + idle, deadline)
  if ARGV[8] ~= '' then
    redis.call('HSET', KEYS[1], '_ls', now, '_ip', ARGV[8])
  else
    redis.call('HSET', KEYS[1], '_ls', now)
  end
  redis.call('PEXPIREAT', KEYS[1], expires)
  if index then
    redis.call('ZADD', index, expires, ARGV[3])
    extend_ttl(index, expires)
  end
  keep_tracked()
  touched = 1
end

return {now, touched, #fields, table.concat(fields, '\0')}
