-- GetItem of a random preloaded item. Args: <table> <partitions> <items-per-partition>
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup, response, done = common.setup, common.response, common.done

local table_name, partitions, items

function init(args)
  common.init("GetItem")
  table_name = args[1]
  partitions = tonumber(args[2])
  items = tonumber(args[3])
end

function request()
  local body = string.format(
    '{"TableName":"%s","Key":{"pk":{"S":"p%06d"},"sk":{"S":"s%02d"}}}',
    table_name, math.random(0, partitions - 1), math.random(0, items - 1))
  return wrk.format(nil, nil, nil, body)
end
