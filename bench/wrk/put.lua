-- PutItem with a unique key per request. Args: <table> <run-id>
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup, response, done = common.setup, common.response, common.done

local table_name, prefix
local counter = 0

function init(args)
  common.init("PutItem")
  table_name = args[1]
  prefix = string.format("w%s-%d-", args[2] or "0", id or 0)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"TableName":"%s","Item":{"pk":{"S":"%s%d"},"sk":{"S":"s00"},%s}}',
    table_name, prefix, counter, common.item_attrs(counter))
  return wrk.format(nil, nil, nil, body)
end
