import { createHash } from 'node:crypto';

/**
 * The Lua scripts of the Redis store. They live in a .ts module rather than a .lua file so the
 * `tsc` build carries them into dist/ with the code that calls them (tsc copies no other files).
 *
 * CONSUME is `decideBatch` + MemoryStore.consume (limits.ts, memory.ts) in Lua: the same
 * arithmetic on the same IEEE doubles (Lua 5.1 numbers), so the shared vectors give the same
 * figures through both stores. A script runs atomically, so the read–decide–write of every limit
 * of a request is one step that no other gateway instance can interleave with: that is what makes
 * a limit of N admit at most N across instances.
 *
 * Numbers cross the wire as strings: JS `String(x)` is the shortest round-trip form, and TATs
 * are stored with `%.17g`, so a fractional TAT (T = 1000/3 ms) is read back bit for bit. Replies
 * are integers only (remaining, ceil'd milliseconds, window ids): Redis truncates Lua numbers
 * to integers and ends an array at the first nil/false, so booleans are sent as 0/1.
 *
 * Requires Redis >= 6.0 (SET ... KEEPTTL).
 */

const COMMON = `
local DAY = 86400000

-- The time of the decision. TIME, not the gateway's clock: every gateway instance calls this
-- one Redis, so all of them see one clock, and a skewed host cannot stretch or shift a window.
-- Scripts replicate their effects (the default from Redis 5, the only mode from 7), so a
-- non-deterministic TIME before writes is allowed; replicate_commands() makes it so on 3.2-4.
-- ARGV[1] ~= '' is a fixed time, sent only by a store created with a test clock.
local function clock(fixed)
  if fixed ~= '' then return tonumber(fixed) end
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

export const CONSUME_LUA = `${COMMON}
-- KEYS[i]  the key of check i: a rate limit's TAT key, or a quota's key without its window
--          (':<window id>' is appended here; the hash tag of KEYS[i] keeps it in KEYS[i]'s slot).
-- ARGV[1]  '' (use TIME) or a fixed time in ms (test stores only).
-- ARGV[2 + 5(i-1) ...]  check i, five fields:
--          kind      'r' (GCRA rate limit) or 'q' (calendar quota)
--          a         rate: emission interval T in ms (may be fractional); quota: 'day'|'week'|'month'
--          b         rate: burst (bucket capacity); quota: the limit per window
--          cost      units this request consumes
--          enforce   '1' enforcing, '0' shadow (reported, never the reason for a refusal)
-- Returns { committed (0|1), then per check seven integers:
--          allowed (0|1), remaining, resetMs, retryAfterMs, window id (quota; 0 for a rate),
--          remaining and resetMs as they are when this request is not counted }.
-- Commit rule (decideBatch): nothing is written unless every enforcing limit admits the
-- request; then every limit that individually admits it is charged.

-- Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant, chrono-compatible
-- low-level date algorithms): month windows need the calendar, Lua 5.1 has no UTC date maths.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function civil_from_days(z)
  z = z + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m
end

-- quotaWindow (limits.ts): the UTC calendar window holding now, as start and end in ms.
-- ISO weeks start on Monday; day 0 (1970-01-01) was a Thursday, day 3 of its week.
local function quota_window(period, now)
  local day = math.floor(now / DAY)
  if period == 'day' then return day * DAY, (day + 1) * DAY end
  if period == 'week' then
    local first = day - (day + 3) % 7
    return first * DAY, (first + 7) * DAY
  end
  if period ~= 'month' then error('rampart: unknown quota period ' .. tostring(period)) end
  local y, m = civil_from_days(day)
  local start = days_from_civil(y, m, 1)
  local finish
  if m == 12 then finish = days_from_civil(y + 1, 1, 1) else finish = days_from_civil(y, m + 1, 1) end
  return start * DAY, finish * DAY
end

local now = clock(ARGV[1])
local out = { 0 }
local writes = {}
local admitted = true

for i = 1, #KEYS do
  local a = 2 + (i - 1) * 5
  local kind, cost, enforce = ARGV[a], tonumber(ARGV[a + 3]), ARGV[a + 4] == '1'
  local allowed, remaining, reset, retry, window, idleRemaining, idleReset
  if kind == 'r' then
    local t, burst = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    local v = redis.call('GET', KEYS[i])
    local tat = math.max(v and tonumber(v) or now, now)
    local limit = burst * t
    local ahead = tat + cost * t - now
    window = 0
    idleRemaining = math.max(0, math.floor((limit - (tat - now)) / t + 1e-9))
    idleReset = math.ceil(tat - now)
    if ahead > limit + 1e-9 then
      allowed, remaining, reset, retry = false, idleRemaining, idleReset, math.ceil(ahead - limit)
    else
      allowed, remaining, reset, retry = true, math.max(0, math.floor((limit - ahead) / t + 1e-9)), math.ceil(ahead), 0
      -- The TAT key lives as long as the TAT is ahead of now; once it expires, "absent" and
      -- "in the past" decide the same way.
      writes[i] = { KEYS[i], string.format('%.17g', tat + cost * t), math.max(1, math.ceil(ahead)), false }
    end
  else
    local limit = tonumber(ARGV[a + 2])
    local start, finish = quota_window(ARGV[a + 1], now)
    window = start / DAY
    local key = KEYS[i] .. ':' .. string.format('%d', window)
    local v = redis.call('GET', key)
    local used = v and tonumber(v) or 0
    reset = finish - now
    idleRemaining, idleReset = math.max(0, limit - used), reset
    if used + cost > limit then
      allowed, remaining, retry = false, math.max(0, limit - used), reset
    else
      allowed, remaining, retry = true, limit - used - cost, 0
      -- Kept a minute past the window's end, so a clock a little behind still finds it; an
      -- existing window keeps the expiry of its first charge (KEEPTTL).
      writes[i] = { key, string.format('%.17g', used + cost), reset + 60000, v ~= false }
    end
  end
  if not allowed and enforce then admitted = false end
  out[#out + 1] = allowed and 1 or 0
  out[#out + 1] = remaining
  out[#out + 1] = reset
  out[#out + 1] = retry
  out[#out + 1] = window
  out[#out + 1] = idleRemaining
  out[#out + 1] = idleReset
end

if admitted then
  out[1] = 1
  for i = 1, #KEYS do
    local w = writes[i]
    if w then
      if w[4] then redis.call('SET', w[1], w[2], 'KEEPTTL')
      else redis.call('SET', w[1], w[2], 'PX', w[3]) end
    end
  end
end
return out
`;

export const REFUND_LUA = `${COMMON}
-- Cluster mode only: give back what a consume call charged in one slot when another slot of the
-- same request refused it (see RedisStore.consume for why this keeps "at most N").
-- KEYS[i]  a key the consume script charged: a TAT key, or a quota window key ('<key>:<window>').
-- ARGV[1]  '' (use TIME) or a fixed time in ms (test stores only).
-- ARGV[2 + 2(i-1) ...]  kind 'r' | 'q', and the amount to give back: cost * T ms for a rate
--          limit (its TAT moves back, never before now), cost units for a quota.
local now = clock(ARGV[1])
for i = 1, #KEYS do
  local a = 2 + (i - 1) * 2
  local amount = tonumber(ARGV[a + 1])
  local v = redis.call('GET', KEYS[i])
  if v then
    if ARGV[a] == 'r' then
      local tat = math.max(tonumber(v) - amount, now)
      if tat <= now then redis.call('DEL', KEYS[i])
      else redis.call('SET', KEYS[i], string.format('%.17g', tat), 'PX', math.max(1, math.ceil(tat - now))) end
    else
      redis.call('SET', KEYS[i], string.format('%.17g', math.max(0, tonumber(v) - amount)), 'KEEPTTL')
    end
  end
end
return 1
`;

export interface Script {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

export const CONSUME: Script = script(CONSUME_LUA);
export const REFUND: Script = script(REFUND_LUA);

/**
 * KEYS[1] the counter; ARGV[1] the increment (integer); ARGV[2] the TTL in ms of a new counter.
 * The expiry is set only when the counter is created (no TTL right after INCRBY), so increments
 * never extend a window: it ends ttl ms after it began, as in MemoryStore.
 */
export const INCREMENT: Script = script(`
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v
`);
