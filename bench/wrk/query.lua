-- Query of one whole random preloaded partition. Args: <table> <partitions>
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup, response, done = common.setup, common.response, common.done

local table_name, partitions

function init(args)
  common.init("Query")
  table_name = args[1]
  partitions = tonumber(args[2])
end

function request()
  local body = string.format(
    '{"TableName":"%s","KeyConditionExpression":"pk = :p",'
      .. '"ExpressionAttributeValues":{":p":{"S":"p%06d"}}}',
    table_name, math.random(0, partitions - 1))
  return wrk.format(nil, nil, nil, body)
end
