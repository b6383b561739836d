-- Shared helpers, prepended to every sessionkit script when it is loaded (see ../scripts.ts).
-- Every key a script touches shares the hash tag {<tag>} of KEYS[1], so each script runs in one Cluster slot.
--
-- ARGV[1] of EVERY script is its deadline: the latest Redis server time (ms) at which the caller still waits for
-- the answer ('' = none). Past it the caller has reported the call as failed (a 503), so the script must not
-- take effect: a call that sat in a client's offline queue, or behind a paused server, is refused, never replayed.
-- Each script begins with `local now = begin()` and returns its error reply when `now` is false.

-- The Redis server's clock, in ms: every node of a deployment agrees on it, unlike the app servers' clocks.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The server time, or false (with the error reply to return) when the caller's deadline has passed. The reply
-- carries the server time so the caller can correct its estimate of this clock.
local function begin()
  local now = now_ms()
  local deadline = tonumber(ARGV[1])
  if deadline and now > deadline then
    return false, redis.error_reply('STALE sessionkit: arrived after its deadline; server time ' .. now)
  end
  return now
end

-- How long a rotation's forwarding note and a forwarded delta live: a request still running this long after
-- the session it loaded was rotated loses its write (see save.lua).
local FORWARD_MS = 60000

-- A user index (or address set) is derived data: if its key holds anything but a sorted set (written by someone
-- else), drop it rather than fail every later script of that user halfway (WRONGTYPE), possibly leaving a key
-- without a TTL.
local function heal_index(key)
  local t = redis.call('TYPE', key)
  t = type(t) == 'table' and t.ok or t
  if t ~= 'zset' and t ~= 'none' then redis.call('DEL', key) end
end

-- An index must outlive its longest-lived member, and must never live forever.
local function extend_ttl(key, at)
  local current = redis.call('PEXPIRETIME', key)
  if current < at then redis.call('PEXPIREAT', key, at) end
end

-- After members left: the index lives exactly as long as its longest-lived remaining member (scores are idle
-- deadlines), so it never outlives its last session. Redis deletes an emptied sorted set by itself.
local function fit_index_ttl(key)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if #last == 2 then redis.call('PEXPIREAT', key, last[2]) end
end

-- uniqueIpsPerUser (GitLab's UniqueIpsLimiter): records `ip` among a user's addresses of the last `window` ms
-- (a sorted set scored by last use, living `window` after it), unless it would be one more than `max` distinct
-- addresses. Returns false, recording nothing, when refused: the addresses already seen keep working.
local function admit_ip(key, ip, max, window, now)
  heal_index(key)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if not redis.call('ZSCORE', key, ip) and redis.call('ZCARD', key) >= max then return false end
  redis.call('ZADD', key, now, ip)
  redis.call('PEXPIRE', key, window)
  return true
end

-- Sets field/value pairs from `list`, starting at `first`, in chunks small enough for Lua's stack.
local function hset_pairs(key, list, first)
  for i = first, #list, 200 do
    redis.call('HSET', key, unpack(list, i, math.min(i + 199, #list)))
  end
end

-- Applies a held delta (written by save.lua for a session that was not created yet) to a new session. '' marks
-- a deleted field: no stored value is ever '' (values are JSON).
local function apply_held(session, held)
  local fields = redis.call('HGETALL', held)
  for i = 1, #fields, 2 do
    if fields[i + 1] == '' then redis.call('HDEL', session, fields[i])
    else redis.call('HSET', session, fields[i], fields[i + 1]) end
  end
  if #fields > 0 then redis.call('DEL', held) end
end

-- Removes index entries whose session is gone or no longer belongs to `user`, then evicts the least recently
-- active sessions beyond `cap` (lowest score = earliest idle deadline). `spare` is never evicted.
-- Returns pruned, evicted. With dry_run nothing is written; the counts are what would happen.
local function enforce_index(index, session_prefix, user, cap, now, spare, dry_run)
  local pruned = 0
  local live = {}
  local entries = redis.call('ZRANGE', index, 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    local hash = entries[i]
    local owner = redis.pcall('HGET', session_prefix .. hash, '_u')
    if type(owner) == 'table' then owner = nil end
    if tonumber(entries[i + 1]) <= now or owner ~= user then
      pruned = pruned + 1
      if not dry_run then redis.call('ZREM', index, hash) end
    else
      live[#live + 1] = hash
    end
  end
  local evicted = 0
  local over = #live - cap
  for _, hash in ipairs(live) do
    if over <= 0 then break end
    if hash ~= spare then
      if not dry_run then
        redis.call('DEL', session_prefix .. hash)
        redis.call('ZREM', index, hash)
      end
      evicted = evicted + 1
      over = over - 1
    end
  end
  if not dry_run then fit_index_ttl(index) end
  return pruned, evicted
end
