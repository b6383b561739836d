-- snapshot: every live session of one user with all its fields, for background readers (kit.sessionsOf). Read
-- only: nothing is touched (no TTL slide, no last-seen update, no index pruning), so a job reading a user's
-- sessions changes nothing a request would see.
--
-- KEYS[1]  user index     <prefix>{<tag>}:u:<user>
-- Also reads, in the same slot, each indexed session <prefix>{<tag>}:s:<hash>.
--
-- ARGV[1]  deadline (lib.lua)
-- ARGV[2]  session key prefix <prefix>{<tag>}:s:
-- ARGV[3]  encoded user id
--
-- Returns {{hash, expires, field1, value1, ...}, ...}: the sessions still indexed, not past their idle deadline
-- (the score) nor their absolute one, and still owned by the user.
local now, stale = begin()
if not now then return stale end
local entries = redis.pcall('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
if type(entries) ~= 'table' or entries.err then return {} end
local reply = {}
for i = 1, #entries, 2 do
  local fields = redis.pcall('HGETALL', ARGV[2] .. entries[i])
  if type(fields) == 'table' and not fields.err and #fields > 0 then
    local owner, deadline
    for j = 1, #fields, 2 do
      if fields[j] == '_u' then owner = fields[j + 1]
      elseif fields[j] == '_ab' then deadline = tonumber(fields[j + 1]) end
    end
    if owner == ARGV[3] and deadline and deadline > now then
      local session = {entries[i], entries[i + 1]}
      for j = 1, #fields do session[j + 2] = fields[j] end
      reply[#reply + 1] = session
    end
  end
end
return reply
