"""Every GraphQL document the bridge sends is valid against Reticulum's schema.

``hubs_bridge/hubs/reticulum.graphql`` transcribes Reticulum's Absinthe schema
(``lib/ret_web/schema/room_types.ex`` and friends); the simulator answers from
the same file, so a field Reticulum does not have (``Room.url``, asked for by
the first bridge) fails here before it fails against a real server.
"""

from __future__ import annotations

from pathlib import Path

import graphql
import pytest

import hubs_bridge.hubs
from hubs_bridge.hubs import graphql as bridge_graphql
from hubs_bridge.hubs.room_specs import HubSpec

SDL = Path(hubs_bridge.hubs.__file__).parent / "reticulum.graphql"


@pytest.fixture(scope="module")
def schema() -> graphql.GraphQLSchema:
    return graphql.build_schema(SDL.read_text(encoding="utf-8"))


@pytest.mark.parametrize("document", bridge_graphql.DOCUMENTS)
def test_documents_validate_against_reticulums_schema(
    schema: graphql.GraphQLSchema, document: str
) -> None:
    errors = graphql.validate(schema, graphql.parse(document))
    assert errors == [], [e.message for e in errors]


def test_the_variables_fit_the_documents_types(schema: graphql.GraphQLSchema) -> None:
    body = bridge_graphql.create_room_body(HubSpec("Kirmes – Info", "https://b/s.glb", 24))
    document = graphql.parse(body["query"])
    [operation] = document.definitions
    assert isinstance(operation, graphql.OperationDefinitionNode)
    coerced = graphql.get_variable_values(
        schema, operation.variable_definitions or [], body["variables"]
    )
    # A list is the coercion's errors; otherwise (a dict, or VariableValues in newer
    # graphql-core) the variables fit.
    assert not isinstance(coerced, list), [e.message for e in coerced]


def test_the_first_bridges_url_field_is_refused(schema: graphql.GraphQLSchema) -> None:
    # room_types.ex object :room has no :url: building the link is the client's job.
    errors = graphql.validate(schema, graphql.parse("mutation { createRoom { id url } }"))
    assert any("Cannot query field 'url' on type 'Room'" in e.message for e in errors)
