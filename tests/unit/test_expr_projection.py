"""ProjectionExpression application: top-level names, nested map paths and list indexes."""

from __future__ import annotations

from rivulet.core.types import Item
from rivulet.expr import compile_expressions, project

ITEM: Item = {
    "id": {"S": "k"},
    "a": {"N": "1"},
    "m": {
        "M": {
            "x": {"S": "x"},
            "y": {"M": {"deep": {"N": "2"}, "other": {"N": "3"}}},
            "l": {"L": [{"N": "0"}, {"M": {"p": {"S": "p"}, "q": {"S": "q"}}}, {"N": "2"}]},
        }
    },
    "l": {"L": [{"S": "l0"}, {"S": "l1"}, {"S": "l2"}, {"S": "l3"}]},
}


def projected(text: str, names: dict[str, str] | None = None, item: Item = ITEM) -> Item:
    compiled = compile_expressions(projection=text, names=names)
    assert compiled.projection is not None
    return project(compiled.projection, item)


def test_projection_top_level_names() -> None:
    assert projected("a, id, nope") == {"a": {"N": "1"}, "id": {"S": "k"}}
    assert projected("#a", {"#a": "a"}) == {"a": {"N": "1"}}
    assert projected("nope") == {}


def test_projection_nested_map_paths() -> None:
    # Only the selected keys of a map are returned, nested the same way as in the item.
    assert projected("m.y.deep, m.x") == {
        "m": {"M": {"y": {"M": {"deep": {"N": "2"}}}, "x": {"S": "x"}}}
    }
    assert projected("m.nope, m.x.nope") == {}


def test_projection_list_indexes_keep_relative_order() -> None:
    # Selected list elements come back as a shorter list in index order.
    assert projected("l[3], l[1]") == {"l": {"L": [{"S": "l1"}, {"S": "l3"}]}}
    assert projected("l[9]") == {}
    assert projected("l[2], l[9]") == {"l": {"L": [{"S": "l2"}]}}


def test_projection_lists_inside_maps() -> None:
    assert projected("m.l[1].q, m.l[2], a") == {
        "m": {"M": {"l": {"L": [{"M": {"q": {"S": "q"}}}, {"N": "2"}]}}},
        "a": {"N": "1"},
    }
    assert projected("m.l[1].p, m.l[1].q") == {
        "m": {"M": {"l": {"L": [{"M": {"p": {"S": "p"}, "q": {"S": "q"}}}]}}}
    }


def test_projection_of_wrong_container_types_is_empty() -> None:
    assert projected("a.b, id[0]") == {}
    assert projected("m[0]") == {}


def test_projection_does_not_modify_the_item() -> None:
    result = projected("m.y.deep")
    result["m"]["M"]["y"]["M"]["new"] = {"N": "1"}
    assert "new" not in ITEM["m"]["M"]["y"]["M"]
